package io.kubevmm.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** Starts detached background processes with pidfiles and logs, and stops them again. */
final class Processes {
    private Processes() { }

    /** Starts {@code command} in its own session (it outlives the launcher), output appended to {@code log}. */
    static long start(List<String> command, Map<String, String> env, Path log, Path pidFile) throws IOException {
        Files.createDirectories(log.getParent());
        Files.createDirectories(pidFile.getParent());
        List<String> cmd = new ArrayList<>();
        cmd.add("setsid");
        cmd.addAll(command);
        ProcessBuilder builder = new ProcessBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectErrorStream(true);
        builder.environment().putAll(env);
        long pid = builder.start().pid();
        Files.writeString(pidFile, Long.toString(pid));
        return pid;
    }

    static Optional<ProcessHandle> alive(Path pidFile) {
        try {
            long pid = Long.parseLong(Files.readString(pidFile).strip());
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** SIGTERM, then SIGKILL after {@code graceSeconds}. Returns true if something was running. */
    static boolean stop(Path pidFile, int graceSeconds) {
        Optional<ProcessHandle> process = alive(pidFile);
        process.ifPresent(p -> {
            p.destroy();
            try {
                p.onExit().get(graceSeconds, TimeUnit.SECONDS);
            } catch (Exception e) {
                p.destroyForcibly();
                try {
                    p.onExit().get(10, TimeUnit.SECONDS);
                } catch (Exception ignored) {
                    // reported by the caller's final check
                }
            }
        });
        try {
            Files.deleteIfExists(pidFile);
        } catch (IOException ignored) {
            // stale pidfile is harmless: alive() checks the process
        }
        return process.isPresent();
    }

    static int freePort() throws IOException {
        try (var socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    static boolean portFree(int port) {
        try (var socket = new java.net.ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException inUse) {
            return false;
        }
    }

    static String tail(Path log, int lines) {
        try {
            List<String> all = Files.readAllLines(log);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log at " + log + ")";
        }
    }
}
