package io.kubevmm.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

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
            return ProcessHandle.of(pid).filter(Processes::running);
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * Alive and not a zombie: a process whose parent died (a QEMU after its node runtime's kill -9)
     * is inherited by init or a subreaper, which may never reap it, and {@link ProcessHandle#isAlive()}
     * says yes for it until then. Waiting for the end of such a process: {@link #awaitEnd}.
     */
    static boolean running(ProcessHandle process) {
        if (!process.isAlive()) {
            return false;
        }
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2); // "pid (comm) S ..."
            return state != 'Z' && state != 'X';
        } catch (IOException | RuntimeException e) {
            return process.isAlive();
        }
    }

    /** Waits up to {@code timeout} for the process to end (reaped or a zombie); true if it has. */
    static boolean awaitEnd(ProcessHandle process, java.time.Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (running(process)) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return !running(process);
            }
        }
        return true;
    }

    /** SIGTERM, then SIGKILL after {@code graceSeconds}. Returns true if something was running. */
    static boolean stop(Path pidFile, int graceSeconds) {
        Optional<ProcessHandle> process = alive(pidFile);
        process.ifPresent(p -> {
            p.destroy();
            if (!awaitEnd(p, java.time.Duration.ofSeconds(graceSeconds))) {
                p.destroyForcibly();
                awaitEnd(p, java.time.Duration.ofSeconds(10)); // one still running is reported by the caller's final check
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
