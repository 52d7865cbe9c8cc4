package io.kubevmm.node.qmp;

import io.kubevmm.node.qmp.PendingCommands.Pending;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The write side of a {@link QmpClient}'s socket: command lines in the order they were sent, some
 * with a file descriptor attached. Writes run on a thread of their own: an interrupt on a caller's
 * thread would close the whole channel (SocketChannel is interruptible), and an asynchronous
 * command must not block on a full socket.
 */
final class QmpWriter {
    private static final Logger LOG = Logger.getLogger(QmpWriter.class);

    private final Path socket;
    private final SocketChannel channel;
    private final PendingCommands pending;
    private final BooleanSupplier open;
    private final Supplier<String> endReason;
    private final ExecutorService writer;
    /** Held while a descriptor is sent by the socket's number, and to close the socket. */
    private final ReentrantLock socketInUse = new ReentrantLock();

    QmpWriter(Path socket, SocketChannel channel, PendingCommands pending, BooleanSupplier open, Supplier<String> endReason) {
        this.socket = socket;
        this.channel = channel;
        this.pending = pending;
        this.open = open;
        this.endReason = endReason;
        this.writer = Executors.newSingleThreadExecutor(Thread.ofVirtual().name("qmp-writer " + socket).factory());
    }

    /** Queues {@code line} of command {@code sent}, with the descriptor of {@code withFd} unless that is null. */
    void send(byte[] line, Pending sent, FdWrite withFd) {
        try {
            writer.execute(withFd == null ? () -> write(line) : () -> withFd.write(line, sent));
        } catch (RejectedExecutionException e) {
            // The connection ended after registering: its end has already failed this command.
        }
    }

    /** A descriptor to attach to one command, to be sent before {@code deadline} (System.nanoTime). */
    FdWrite withFd(int fd, long deadline) {
        return new FdWrite(fd, deadline);
    }

    /** Closes the socket (never while a descriptor is being sent on it) and stops writing. */
    void close() {
        socketInUse.lock();
        try {
            QmpSocket.closeQuietly(channel);
        } finally {
            socketInUse.unlock();
        }
        writer.shutdown();
    }

    private void write(byte[] line) {
        try {
            ByteBuffer buffer = ByteBuffer.wrap(line);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        } catch (IOException e) {
            // Broken pipe: QEMU is gone, but its last events (SHUTDOWN and its reason) may still be
            // unread. The reader drains them, sees the end and fails this command with the others.
            LOG.debugf("Writing to QMP socket %s failed: %s", socket, e.getMessage());
        }
    }

    /**
     * One descriptor on its way to QEMU. The writer and the caller each claim it once: the writer
     * to send it, the caller (when done waiting) to make sure it is not sent after that; whoever
     * comes second waits for nothing or for the write to finish, so the caller may close the
     * descriptor as soon as {@link #release()} returns.
     */
    final class FdWrite {
        private final int fd;
        private final long deadline;
        private final AtomicBoolean claimed = new AtomicBoolean();
        private final CountDownLatch written = new CountDownLatch(1);

        FdWrite(int fd, long deadline) {
            this.fd = fd;
            this.deadline = deadline;
        }

        void write(byte[] line, Pending sent) {
            if (!claimed.compareAndSet(false, true)) {
                return;
            }
            try {
                int done;
                // sendmsg goes by descriptor number, past the channel's own open/closed bookkeeping:
                // the lock keeps close() from closing (and the number from being reused) meanwhile.
                socketInUse.lock();
                try {
                    if (!open.getAsBoolean()) {
                        throw new IOException("the QMP connection ended (" + endReason.get() + ")");
                    }
                    done = FdPassing.send(FdPassing.descriptor(channel), line, fd, deadline, open::getAsBoolean);
                } finally {
                    socketInUse.unlock();
                }
                ByteBuffer rest = ByteBuffer.wrap(line, done, line.length - done);
                while (rest.hasRemaining()) {
                    channel.write(rest);
                }
            } catch (IOException e) {
                // Unlike a plain write, this one may fail with QEMU alive (no room, bad descriptor): say so now.
                LOG.debugf("Passing a descriptor on QMP socket %s failed: %s", socket, e.getMessage());
                pending.abandon(sent.id(), new QmpException(sent.command(), null,
                        "QMP command '" + sent.command() + "' could not pass its file descriptor: " + e.getMessage()));
            } finally {
                written.countDown();
            }
        }

        void release() {
            if (!claimed.compareAndSet(false, true)) {
                boolean interrupted = false;
                while (true) {
                    try {
                        written.await();
                        break;
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
