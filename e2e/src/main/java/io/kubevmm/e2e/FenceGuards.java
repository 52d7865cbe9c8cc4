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
 * The fence guards of one local cluster's nodes (docs/ha.md): a node runtime starts one per node
 * in a session of its own, and it outlives the runtime on purpose, so {@code local down} stops
 * them itself. Found by each node state dir's {@code fence-guard.pid}, only if that process runs
 * the guard script for that dir (pids are recycled).
 */
final class FenceGuards {
    static final String SCRIPT = "kubevmm-fence-guard.sh";
    private final Path nodesDir;

    FenceGuards(Path nodesDir) {
        this.nodesDir = nodesDir;
    }

    /** One guard: its process and the node state dir it watches. */
    record Guard(ProcessHandle process, Path nodeDir) {
        @Override
        public String toString() {
            return "fence guard " + process.pid() + " (" + nodeDir.getFileName() + ")";
        }
    }

    List<Guard> running() {
        List<Guard> found = new ArrayList<>();
        if (!Files.isDirectory(nodesDir)) {
            return found;
        }
        try (Stream<Path> nodes = Files.list(nodesDir)) {
            for (Path node : nodes.filter(Files::isDirectory).toList()) {
                guardOf(node).ifPresent(p -> found.add(new Guard(p, node)));
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list " + nodesDir + " to find fence guards: " + e.getMessage(), e);
        }
        return found;
    }

    private static Optional<ProcessHandle> guardOf(Path nodeDir) {
        try {
            long pid = Long.parseLong(Files.readString(nodeDir.resolve("fence-guard.pid")).strip());
            String cmdline = new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")), StandardCharsets.UTF_8);
            if (!cmdline.contains(SCRIPT) || !cmdline.contains(nodeDir.toString())) {
                return Optional.empty();
            }
            return ProcessHandle.of(pid).filter(Processes::running);
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** SIGTERM to every guard, SIGKILL after 3 s. Returns those it stopped. */
    List<Guard> stopAll() {
        List<Guard> stopped = running();
        stopped.forEach(g -> g.process().destroy());
        for (Guard g : stopped) {
            if (!Processes.awaitEnd(g.process(), java.time.Duration.ofSeconds(3))) {
                g.process().destroyForcibly();
                Processes.awaitEnd(g.process(), java.time.Duration.ofSeconds(5));
            }
        }
        return stopped;
    }
}
