package io.kubevmm.node.lifecycle;

import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;

/**
 * A VM's own thread: every operation and every guest event of one VM runs here, one at a time and
 * in order, so its machine state is never raced. Tasks that come after the VM was deleted are
 * dropped.
 */
final class VmThread {
    private static final Logger LOG = Logger.getLogger(VmThread.class);

    private final String vmId;
    private final RunnerTime time;
    private final ExecutorService executor;
    /** Set by the VM's last task (its deletion): whatever was queued behind it is dropped, not run. */
    private volatile boolean closed;

    VmThread(String vmId, RunnerTime time) {
        this.vmId = vmId;
        this.time = time;
        this.executor = Executors.newSingleThreadExecutor(Thread.ofVirtual().name("vm-" + vmId).factory());
    }

    /** Queues {@code task}; an exception it throws is logged, and a task after deletion is dropped. */
    void submit(Runnable task) {
        if (!tryExecute(guarded(task))) {
            LOG.debugf("%s is deleted; dropping a late task", vmId);
        }
    }

    /** Queues {@code task} to run once {@code delay} has passed. */
    void after(Duration delay, Runnable task) {
        time.after(delay, () -> submit(task));
    }

    /** Queues {@code task} as it is; false when the VM is deleted and it will never run. */
    boolean tryExecute(Runnable task) {
        if (closed) {
            return false;
        }
        try {
            executor.execute(task);
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    /** Runs what is queued, then ends the thread; later tasks are dropped. */
    void shutdown() {
        executor.shutdown();
    }

    /**
     * Ends the VM's thread from its own last task: tasks queued behind it (a drive a settled
     * migration or a guest event asked for) are dropped, so nothing acts on a deleted VM; acting
     * would start a new emulator nothing tracks.
     */
    void close() {
        closed = true;
        executor.shutdown();
    }

    private Runnable guarded(Runnable task) {
        return () -> {
            if (closed) {
                LOG.debugf("%s is deleted; dropping a task queued before its deletion finished", vmId);
                return;
            }
            try {
                task.run();
            } catch (RuntimeException e) {
                LOG.errorf(e, "%s: unexpected error", vmId);
            }
        };
    }
}
