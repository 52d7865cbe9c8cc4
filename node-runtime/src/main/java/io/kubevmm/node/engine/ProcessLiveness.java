package io.kubevmm.node.engine;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Whether an emulator process still runs. {@link ProcessHandle#isAlive()} says yes for a zombie:
 * a QEMU that an earlier node runtime started is no child of this one, and once it has exited it
 * stays a zombie until whatever inherited it (init, or a subreaper that may never reap) collects
 * it. A zombie runs no guest, holds no memory and needs no kill, so here it counts as ended, and
 * the end of such a process is noticed by polling its state instead of {@link ProcessHandle#onExit()},
 * which waits for the reaping.
 */
public final class ProcessLiveness {
    private static final long POLL_MILLIS = 50;
    private static final ScheduledExecutorService POLLER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "process-exit-poller");
        t.setDaemon(true);
        return t;
    });

    private ProcessLiveness() { }

    /** True while the process exists and has not exited (a zombie has). */
    public static boolean running(ProcessHandle process) {
        return process.isAlive() && !exitedUnreaped(process.pid());
    }

    /** Completes once the process has exited, reaped or not. */
    public static CompletableFuture<ProcessHandle> exited(ProcessHandle process) {
        CompletableFuture<ProcessHandle> done = new CompletableFuture<>();
        process.onExit().thenAccept(done::complete);
        var poll = POLLER.scheduleWithFixedDelay(() -> {
            if (!running(process)) {
                done.complete(process);
            }
        }, 0, POLL_MILLIS, TimeUnit.MILLISECONDS);
        done.whenComplete((p, e) -> poll.cancel(false));
        return done;
    }

    /** The kernel's state letter for the process is Z (zombie) or X (dead), per proc(5). */
    static boolean exitedUnreaped(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.US_ASCII);
            // "pid (comm) S ...": comm may hold spaces and parentheses, the state follows the last ')'.
            int close = stat.lastIndexOf(')');
            if (close < 0 || close + 2 >= stat.length()) {
                return false;
            }
            char state = stat.charAt(close + 2);
            return state == 'Z' || state == 'X';
        } catch (IOException e) {
            return false; // gone from /proc: isAlive says so too
        }
    }
}
