package io.kubevmm.node.ha;

import io.kubevmm.node.engine.ProcessLiveness;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The running QEMUs of this node's VMs marked for fencing, found the way the fence guard finds
 * them: the pid in the VM dir's pidfile, only if that process's command line names the dir's
 * QMP socket (pids are recycled) and it has not exited (a zombie runs nothing).
 */
public final class FencedGuests {
    private static final Logger LOG = Logger.getLogger(FencedGuests.class);

    /** One guest to fence: its VM dir ({@code <namespace>_<name>}) and its QEMU. */
    public record Guest(Path dir, ProcessHandle qemu) { }

    private final Path vmsDir;

    public FencedGuests(Path stateDir) {
        this.vmsDir = stateDir.resolve("vms");
    }

    public List<Guest> running() {
        List<Guest> found = new ArrayList<>();
        if (!Files.isDirectory(vmsDir)) {
            return found;
        }
        try (Stream<Path> dirs = Files.list(vmsDir)) {
            for (Path dir : dirs.filter(FenceMarker::marked).toList()) {
                qemuOf(dir).ifPresent(q -> found.add(new Guest(dir, q)));
            }
        } catch (IOException e) {
            LOG.warnf("cannot list %s to find guests to fence: %s", vmsDir, e.getMessage());
        }
        return found;
    }

    static Optional<ProcessHandle> qemuOf(Path dir) {
        try {
            long pid = Long.parseLong(Files.readString(dir.resolve("qemu.pid")).strip());
            String cmdline = new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")), StandardCharsets.UTF_8);
            if (!cmdline.contains(dir.resolve("qmp.sock").toString())) {
                return Optional.empty();
            }
            return ProcessHandle.of(pid).filter(ProcessLiveness::running);
        } catch (IOException | NumberFormatException e) {
            return Optional.empty(); // no pidfile, or the process is gone
        }
    }

    /**
     * Freezes the guest's vCPUs at once (SIGSTOP stops every thread of the process, whatever its
     * monitor is doing), then kills it. Returns once it has exited, or after 5 s.
     */
    public static void fence(Guest guest) {
        long pid = guest.qemu().pid();
        try {
            new ProcessBuilder("kill", "-STOP", Long.toString(pid)).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(2, TimeUnit.SECONDS);
        } catch (IOException e) {
            LOG.warnf("cannot pause QEMU %d before killing it: %s", pid, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        guest.qemu().destroyForcibly();
        ProcessLiveness.exited(guest.qemu()).orTimeout(5, TimeUnit.SECONDS).exceptionally(x -> null).join();
    }
}
