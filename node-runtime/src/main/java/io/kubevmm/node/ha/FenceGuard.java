package io.kubevmm.node.ha;

import io.kubevmm.node.config.NodeConfig;
import io.kubevmm.node.engine.ProcessLiveness;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;

/**
 * The fence guard of this node: {@code kubevmm-fence-guard.sh} (shipped in this jar, written to
 * the node's state dir) run with {@code setsid}, so it outlives a node runtime that crashed or is
 * frozen and kills the highly available guests once the heartbeat file ages past fence-after.
 * Its pid is in {@code <stateDir>/fence-guard.pid}, its log in {@code fence-guard.log}.
 */
@ApplicationScoped
public class FenceGuard {
    private static final Logger LOG = Logger.getLogger(FenceGuard.class);
    public static final String SCRIPT = "kubevmm-fence-guard.sh";
    public static final String PID_FILE = "fence-guard.pid";

    private final Path stateDir;
    private final long fenceAfterSeconds;

    @Inject
    FenceGuard(NodeConfig config) {
        this(config.stateDir(), config.fenceAfter().toSeconds());
    }

    FenceGuard(Path stateDir, long fenceAfterSeconds) {
        this.stateDir = stateDir;
        this.fenceAfterSeconds = Math.max(1, fenceAfterSeconds);
    }

    /** The running guard of this node, if any: the pidfile's process, only if it runs this script for this dir. */
    public Optional<ProcessHandle> running() {
        try {
            long pid = Long.parseLong(Files.readString(stateDir.resolve(PID_FILE)).strip());
            String cmdline = new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")), StandardCharsets.UTF_8);
            if (!cmdline.contains(SCRIPT) || !cmdline.contains(stateDir.toString())) {
                return Optional.empty();
            }
            return ProcessHandle.of(pid).filter(ProcessLiveness::running);
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * Starts a guard (a guard an earlier runtime left sees the new pidfile and exits). Needs the
     * heartbeat file: without one the guard would exit at once.
     */
    public synchronized void start() throws IOException {
        Path script = stateDir.resolve(SCRIPT);
        Files.createDirectories(stateDir);
        try (InputStream in = FenceGuard.class.getResourceAsStream(SCRIPT)) {
            if (in == null) {
                throw new IOException(SCRIPT + " is missing from the node runtime's jar");
            }
            Path partial = stateDir.resolve(SCRIPT + ".partial");
            Files.copy(in, partial, StandardCopyOption.REPLACE_EXISTING);
            Files.move(partial, script, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        Path log = stateDir.resolve("fence-guard.log");
        new ProcessBuilder(List.of("setsid", "sh", script.toString(), stateDir.toString(), Long.toString(fenceAfterSeconds)))
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectErrorStream(true)
                .start();
        // It writes its pidfile first thing; a guest waiting to boot asks for it right after this.
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (running().isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        LOG.infof("fence guard started for %s (kills highly available guests %d s after the last Lease renewal; log %s)",
                stateDir, fenceAfterSeconds, log);
    }

    /** Stops the guard (clean shutdown with nothing left to guard). */
    public void stop() {
        running().ifPresent(guard -> {
            guard.destroy();
            ProcessLiveness.exited(guard).orTimeout(3, java.util.concurrent.TimeUnit.SECONDS).exceptionally(x -> null).join();
            LOG.infof("fence guard %d stopped", guard.pid());
        });
    }
}
