package io.kubevmm.node.transfer.tunnel;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** The live pipes of one registration or endpoint, so closing it cuts them all and admits no new one. */
final class OpenPipes {
    private final Set<Pipe> pipes = new HashSet<>();
    private boolean closed;

    /** Starts {@code pipe} unless already closed; returns false then, and the caller closes its ends. */
    synchronized boolean start(Pipe pipe, String name) {
        if (closed) {
            return false;
        }
        pipes.add(pipe);
        pipe.start(name, () -> remove(pipe));
        return true;
    }

    synchronized int size() {
        return pipes.size();
    }

    void closeAll() {
        List<Pipe> open;
        synchronized (this) {
            closed = true;
            open = List.copyOf(pipes);
            pipes.clear();
            notifyAll();
        }
        open.forEach(Pipe::abort);
    }

    /** Waits until every pipe has finished on its own (both directions ended), at most {@code timeout}; true if all did. */
    synchronized boolean awaitFinished(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!pipes.isEmpty()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return true;
    }

    private synchronized void remove(Pipe pipe) {
        pipes.remove(pipe);
        notifyAll();
    }
}
