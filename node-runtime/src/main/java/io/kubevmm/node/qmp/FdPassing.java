package io.kubevmm.node.qmp;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Handing a socket's file descriptor to QEMU: {@code sendmsg(2)} with {@code SCM_RIGHTS} over the
 * QMP unix socket (through JNA, direct mapping), and the descriptor number of a java.nio socket
 * channel (from {@code sun.nio.ch.SelChImpl#getFDVal}, which needs
 * {@code --add-exports java.base/sun.nio.ch=ALL-UNNAMED}). Linux on a 64-bit CPU only.
 * {@link #available()} says whether all of it works in this JVM; callers fall back to relaying
 * the bytes themselves when it does not.
 */
public final class FdPassing {
    private static final Logger LOG = Logger.getLogger(FdPassing.class);

    // Linux values, identical on x86_64 and aarch64.
    private static final int SOL_SOCKET = 1;
    private static final int SCM_RIGHTS = 1;
    private static final int MSG_DONTWAIT = 0x40;
    private static final int MSG_NOSIGNAL = 0x4000;
    private static final int EINTR = 4;
    private static final int EAGAIN = 11;
    // struct msghdr on LP64: name 0, namelen 8, iov 16, iovlen 24, control 32, controllen 40, flags 48.
    private static final int MSGHDR_BYTES = 56;
    // struct cmsghdr: len (size_t) 0, level 8, type 12, data 16; CMSG_LEN(4) = 20, CMSG_SPACE(4) = 24.
    private static final int CMSG_LEN_ONE_FD = 20;
    private static final int CMSG_SPACE_ONE_FD = 24;

    private static final Method GET_FD_VAL;
    private static final String UNAVAILABLE;

    static {
        Method getFdVal = null;
        String why = null;
        try {
            if (!Platform.isLinux() || !Platform.is64Bit()) {
                why = "only Linux on 64-bit CPUs is supported, this is " + System.getProperty("os.name") + " " + System.getProperty("os.arch");
            } else if (!Object.class.getModule().isExported("sun.nio.ch", FdPassing.class.getModule())) {
                why = "java.base does not export sun.nio.ch to the node runtime (add --add-exports java.base/sun.nio.ch=ALL-UNNAMED)";
            } else {
                getFdVal = Class.forName("sun.nio.ch.SelChImpl").getMethod("getFDVal");
                LibC.load();
            }
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            why = "cannot load it: " + e;
            getFdVal = null;
        }
        GET_FD_VAL = why == null ? getFdVal : null;
        UNAVAILABLE = why;
    }

    private FdPassing() { }

    /** Whether descriptors can be passed in this JVM. */
    public static boolean available() {
        return UNAVAILABLE == null;
    }

    /** Why descriptors cannot be passed, or null when they can. */
    public static String unavailableReason() {
        return UNAVAILABLE;
    }

    private static volatile boolean fallbackLogged;

    /** Logs once per JVM, at INFO, that {@code what} falls back to the relay and why. */
    public static void logFallbackOnce(String what) {
        if (!available() && !fallbackLogged) {
            fallbackLogged = true;
            LOG.infof("Passing sockets to QEMU is unavailable (%s); %s", UNAVAILABLE, what);
        }
    }

    /** The descriptor number of an open socket channel; valid only while the channel is open. */
    public static int descriptor(SocketChannel channel) throws IOException {
        if (GET_FD_VAL == null) {
            throw new IOException("file descriptor passing is unavailable: " + UNAVAILABLE);
        }
        try {
            return (int) GET_FD_VAL.invoke(channel);
        } catch (IllegalAccessException e) {
            throw new IOException("cannot read the descriptor of " + channel + ": " + e, e);
        } catch (InvocationTargetException e) {
            throw new IOException("cannot read the descriptor of " + channel + ": " + e.getCause(), e.getCause());
        }
    }

    /** The descriptor number of an open file (e.g. {@code FileOutputStream.getFD()}); valid only while it is open. */
    public static int descriptor(java.io.FileDescriptor file) throws IOException {
        if (GET_FD_VAL == null) {
            throw new IOException("file descriptor passing is unavailable: " + UNAVAILABLE);
        }
        try {
            return (int) Class.forName("sun.nio.ch.IOUtil").getMethod("fdVal", java.io.FileDescriptor.class).invoke(null, file);
        } catch (ReflectiveOperationException e) {
            throw new IOException("cannot read the descriptor of a file: " + e, e);
        }
    }

    /**
     * Sends the first bytes of {@code data} with {@code fd} attached, on the stream socket
     * {@code socketFd}; returns how many bytes went (at least one), the caller writes the rest
     * as usual. Waits while the socket buffer is full (the socket may be non-blocking), until
     * {@code deadlineNanos} ({@link System#nanoTime()}) or until {@code keepTrying} says no.
     */
    static int send(int socketFd, byte[] data, int fd, long deadlineNanos, BooleanSupplier keepTrying) throws IOException {
        if (!available()) {
            throw new IOException("file descriptor passing is unavailable: " + UNAVAILABLE);
        }
        if (data.length == 0) {
            throw new IllegalArgumentException("a descriptor needs at least one byte to travel with");
        }
        try (Memory bytes = new Memory(data.length);
             Memory iov = new Memory(16);
             Memory control = new Memory(CMSG_SPACE_ONE_FD);
             Memory msg = new Memory(MSGHDR_BYTES)) {
            bytes.write(0, data, 0, data.length);
            iov.setPointer(0, bytes);
            iov.setLong(8, data.length);
            control.clear();
            control.setLong(0, CMSG_LEN_ONE_FD);
            control.setInt(8, SOL_SOCKET);
            control.setInt(12, SCM_RIGHTS);
            control.setInt(16, fd);
            msg.clear();
            msg.setPointer(16, iov);
            msg.setLong(24, 1);
            msg.setPointer(32, control);
            msg.setLong(40, CMSG_SPACE_ONE_FD);
            long pause = TimeUnit.MICROSECONDS.toNanos(100);
            while (true) {
                try {
                    long sent = LibC.sendmsg(socketFd, msg, MSG_DONTWAIT | MSG_NOSIGNAL);
                    return (int) sent;
                } catch (LastErrorException e) {
                    if (e.getErrorCode() == EINTR) {
                        continue;
                    }
                    if (e.getErrorCode() != EAGAIN) {
                        throw new IOException("sendmsg with SCM_RIGHTS failed: errno " + e.getErrorCode() + " " + e.getMessage(), e);
                    }
                }
                // The buffer is full (QEMU is busy): not a case worth a poller, it drains within milliseconds.
                if (System.nanoTime() > deadlineNanos) {
                    throw new IOException("sendmsg with SCM_RIGHTS: the socket stayed full until the deadline");
                }
                if (!keepTrying.getAsBoolean()) {
                    throw new IOException("sendmsg with SCM_RIGHTS: given up while the socket was full");
                }
                try {
                    Thread.sleep(pause / 1_000_000, (int) (pause % 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while passing a descriptor", e);
                }
                pause = Math.min(pause * 2, TimeUnit.MILLISECONDS.toNanos(10));
            }
        }
    }

    /** libc through JNA's direct mapping: no proxies, errno as LastErrorException. */
    private static final class LibC {
        static {
            Native.register(LibC.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
        }

        static void load() {
            // Running the static initializer is the point.
        }

        static native long sendmsg(int socket, Pointer message, int flags) throws LastErrorException;
    }
}
