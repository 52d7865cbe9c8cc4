package io.kubevmm.node.transfer.tunnel;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.jboss.logging.Logger;

/**
 * Copies bytes both ways between two ends, one thread per direction, because a migration stream
 * is full duplex (post-copy page requests flow back while RAM flows forward). Platform threads,
 * not virtual ones: a tunnel has a few long, busy connections, and a plain blocking read lets the
 * kernel wake the copier directly where a virtual thread goes through the JDK's poller on every
 * empty socket buffer; bench/tunnel measured about a third more throughput on two cores.
 * End of stream on one side becomes a half-close on the other; the pipe closes both ends once
 * both directions are done, and aborts both at the first error or when cut.
 */
final class Pipe {
    /** Large enough that each read and write moves a lot per system call, small enough per connection. */
    static final int BUFFER_BYTES = 1 << 20;
    private static final Logger LOG = Logger.getLogger(Pipe.class);

    private final TunnelEnd left;
    private final TunnelEnd right;
    private final LongAdder leftToRight;
    private final LongAdder rightToLeft;
    private final AtomicInteger runningDirections = new AtomicInteger(2);
    private final AtomicBoolean closed = new AtomicBoolean();

    /** Counts bytes into {@code leftToRight} and {@code rightToLeft} as they pass. */
    Pipe(TunnelEnd left, TunnelEnd right, LongAdder leftToRight, LongAdder rightToLeft) {
        this.left = left;
        this.right = right;
        this.leftToRight = leftToRight;
        this.rightToLeft = rightToLeft;
    }

    /** Starts copying; {@code onFinished} runs once, after both directions stopped and both ends are closed. */
    void start(String name, Runnable onFinished) {
        Thread.ofPlatform().daemon().name(name + " >").start(() -> copy(left, right, leftToRight, onFinished));
        Thread.ofPlatform().daemon().name(name + " <").start(() -> copy(right, left, rightToLeft, onFinished));
    }

    /** Cuts the connection both ways; the copying threads stop with an error they ignore. */
    void abort() {
        if (closed.compareAndSet(false, true)) {
            left.abort();
            right.abort();
        }
    }

    private void close() {
        if (closed.compareAndSet(false, true)) {
            closeQuietly(left);
            closeQuietly(right);
        }
    }

    private void copy(TunnelEnd from, TunnelEnd to, LongAdder counter, Runnable onFinished) {
        ByteBuffer buffer = from.prefersDirectBuffers() && to.prefersDirectBuffers()
                ? ByteBuffer.allocateDirect(BUFFER_BYTES)
                : ByteBuffer.allocate(BUFFER_BYTES);
        try {
            while (from.read(buffer) >= 0) {
                buffer.flip();
                int length = buffer.remaining();
                to.writeFully(buffer);
                counter.add(length);
                buffer.clear();
            }
            to.shutdownOutput();
        } catch (IOException e) {
            if (!closed.get()) {
                LOG.debugf("Tunnel pipe %s stopped: %s", Thread.currentThread().getName(), e.toString());
            }
            abort();
        } finally {
            if (runningDirections.decrementAndGet() == 0) {
                close();
                onFinished.run();
            }
        }
    }

    private static void closeQuietly(TunnelEnd end) {
        try {
            end.close();
        } catch (IOException e) {
            // Best effort: the descriptor is released either way.
        }
    }
}
