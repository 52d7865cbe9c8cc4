package io.kubevmm.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The QEMU processes of one local cluster, found by what they run on: every QEMU whose command
 * line names a path under the cluster's node state dirs (QMP socket, pidfile, disks, console).
 * Found in /proc, so a guest whose pidfile is gone, or whose node runtime forgot it, is found too.
 */
public final class ClusterQemus {
    private final Path nodesDir;

    ClusterQemus(Path nodesDir) {
        this.nodesDir = nodesDir.toAbsolutePath().normalize();
    }

    /** One QEMU of the cluster: its pid and the state dir it runs in. */
    public record Qemu(ProcessHandle process, String stateDir) {
        @Override
        public String toString() {
            return "qemu " + process.pid() + " (" + stateDir + ")";
        }
    }

    public List<Qemu> running() {
        List<Qemu> found = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path proc : procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).toList()) {
                long pid = Long.parseLong(proc.getFileName().toString());
                stateDirOf(proc).ifPresent(dir -> ProcessHandle.of(pid).filter(Processes::running)
                        .ifPresent(p -> found.add(new Qemu(p, dir))));
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc to find the cluster's QEMUs: " + e.getMessage(), e);
        }
        return found;
    }

    /** SIGTERM, then SIGKILL after {@code graceSeconds}, for every QEMU of the cluster. Returns those it stopped. */
    List<Qemu> stopAll(int graceSeconds) {
        List<Qemu> stopped = running();
        stopped.forEach(q -> q.process().destroy());
        for (Qemu q : stopped) {
            if (!Processes.awaitEnd(q.process(), java.time.Duration.ofSeconds(graceSeconds))) {
                q.process().destroyForcibly();
                Processes.awaitEnd(q.process(), java.time.Duration.ofSeconds(10));
            }
        }
        return stopped;
    }

    /** The VM state dir a QEMU process runs in, if it is a QEMU whose arguments point into this cluster. */
    private Optional<String> stateDirOf(Path proc) {
        byte[] raw;
        try {
            raw = Files.readAllBytes(proc.resolve("cmdline"));
        } catch (IOException e) {
            return Optional.empty(); // gone meanwhile, or not ours to read
        }
        String[] args = new String(raw, StandardCharsets.UTF_8).split("\0");
        if (args.length == 0 || !Path.of(args[0]).getFileName().toString().startsWith("qemu-system")) {
            return Optional.empty();
        }
        String prefix = nodesDir + "/";
        for (String arg : args) {
            int at = arg.indexOf(prefix);
            if (at >= 0) {
                // <nodes>/<node>/vms/<vm>/...: name the VM's dir
                String[] parts = arg.substring(at + prefix.length()).split("[/,]");
                return Optional.of(parts.length >= 3 ? nodesDir.resolve(parts[0]).resolve(parts[1]).resolve(parts[2]).toString()
                        : nodesDir.resolve(parts[0]).toString());
            }
        }
        return Optional.empty();
    }
}
