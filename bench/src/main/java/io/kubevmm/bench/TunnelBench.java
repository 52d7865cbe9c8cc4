package io.kubevmm.bench;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import io.kubevmm.node.migration.MigrationStreams;
import io.kubevmm.node.transfer.tunnel.TunnelClient;
import io.kubevmm.node.transfer.tunnel.TunnelSecrets;
import io.kubevmm.node.transfer.tunnel.TunnelServer;
import io.kubevmm.node.qmp.FdPassing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Migration tunnel throughput (source unix socket → TCP on loopback → target unix socket) against
 * two baselines: the same sender and receiver on one unix socket, and on one TCP connection (what
 * QEMU's own {@code tcp:} transport would do, unauthenticated). Where descriptors can be passed,
 * also the hand-off the node runtimes use over plain TCP: the authenticated connection itself, the
 * receiver reading its own duplicate of the target's descriptor as the target QEMU would after
 * {@code getfd} (the target closes its copy, as it does for QEMU). Runs alternate in one JVM so all
 * see the same machine. The sender and receiver stand in for the two QEMUs.
 */
public final class TunnelBench {
    private static final int IO_BYTES = 1 << 20;

    public static void main(String[] args) throws Exception {
        int runs = 5;
        long megabytes = 2048;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--megabytes" -> megabytes = Long.parseLong(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i] + " (use --runs N --megabytes M)");
            }
        }
        long bytes = megabytes << 20;
        Path work = Files.createTempDirectory("kubevmm-bench-tunnel");
        byte[] secret = TunnelSecrets.generate();
        List<Double> direct = new ArrayList<>();
        List<Double> tcp = new ArrayList<>();
        List<Double> tunnel = new ArrayList<>();
        List<Double> handOff = new ArrayList<>();
        boolean canHandOff = FdPassing.available();
        try (TunnelServer server = new TunnelServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), null)) {
            server.start();
            InetSocketAddress target = new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port());
            // One unmeasured run of each warms the JIT.
            for (int run = -1; run < runs; run++) {
                Path directSocket = work.resolve("direct.sock");
                double directMBps = transfer(unixReceiver(directSocket), UnixDomainSocketAddress.of(directSocket), bytes);
                ServerSocketChannel tcpReceiver = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                double tcpMBps = transfer(tcpReceiver, tcpReceiver.getLocalAddress(), bytes);
                Path targetQemu = work.resolve("target.sock");
                try (TunnelServer.Registration registration = server.register("bench-" + run, secret, Map.of("migration", targetQemu));
                     TunnelClient.Endpoint endpoint = TunnelClient.listen(work.resolve("source.sock"), target,
                             "bench-" + run, "migration", secret, null)) {
                    double tunnelMBps = transfer(unixReceiver(targetQemu), UnixDomainSocketAddress.of(endpoint.socket()), bytes);
                    if (registration.bytesFromSource() != bytes) {
                        throw new IllegalStateException("tunnel counted " + registration.bytesFromSource() + " of " + bytes + " bytes");
                    }
                    double handOffMBps = canHandOff ? handOffTransfer(server, target, "bench-handoff-" + run, secret, bytes) : 0;
                    if (run >= 0) {
                        direct.add(directMBps);
                        tcp.add(tcpMBps);
                        tunnel.add(tunnelMBps);
                        handOff.add(handOffMBps);
                        System.err.printf(Locale.ROOT, "run %d/%d: unix %.0f MB/s, tcp %.0f MB/s, tunnel %.0f MB/s, hand-off %.0f MB/s%n",
                                run + 1, runs, directMBps, tcpMBps, tunnelMBps, handOffMBps);
                    }
                }
            }
        }
        double directP50 = median(direct);
        double tcpP50 = median(tcp);
        double tunnelP50 = median(tunnel);
        double handOffP50 = median(handOff);
        System.out.printf(Locale.ROOT, "%n%d MiB one way per run, %d runs each, %d KiB writes%n", megabytes, runs, IO_BYTES >> 10);
        System.out.printf(Locale.ROOT, "%-40s %10s%n", "", "p50 MB/s");
        System.out.printf(Locale.ROOT, "%-40s %10.0f%n", "unix socket, sender to receiver (baseline)", directP50);
        System.out.printf(Locale.ROOT, "%-40s %10.0f%n", "TCP loopback, sender to receiver", tcpP50);
        System.out.printf(Locale.ROOT, "%-40s %10.0f%n", "tunnel: unix -> TCP -> unix", tunnelP50);
        if (canHandOff) {
            System.out.printf(Locale.ROOT, "%-40s %10.0f%n", "hand-off: authenticated TCP, no relay", handOffP50);
        } else {
            System.out.printf(Locale.ROOT, "%-40s %10s%n", "hand-off: authenticated TCP, no relay", "n/a (" + FdPassing.unavailableReason() + ")");
        }
        System.out.printf(Locale.ROOT, "ratio tunnel / unix: %.3f, tunnel / TCP: %.3f, hand-off / TCP: %.3f%n", tunnelP50 / directP50,
                tunnelP50 / tcpP50, handOffP50 / tcpP50);
        System.out.printf(Locale.ROOT, "{\"bench\":\"tunnel\",\"megabytes\":%d,\"runs\":%d,\"unixMBps\":%.1f,\"tcpMBps\":%.1f,"
                + "\"tunnelMBps\":%.1f,\"handOffMBps\":%.1f,\"ratioToUnix\":%.3f,\"ratioToTcp\":%.3f,\"handOffRatioToTcp\":%.3f}%n",
                megabytes, runs, directP50, tcpP50, tunnelP50, handOffP50, tunnelP50 / directP50, tunnelP50 / tcpP50, handOffP50 / tcpP50);
    }

    /**
     * The hand-off: the sender authenticates and writes into the connection it got back; the
     * target's consumer duplicates the descriptor (as getfd gives QEMU its own) and a receiver
     * reads that duplicate with plain read(2), while the tunnel server closes its own copy.
     */
    private static double handOffTransfer(TunnelServer server, InetSocketAddress target, String id, byte[] secret, long bytes)
            throws Exception {
        CompletableFuture<Long> received = new CompletableFuture<>();
        try (TunnelServer.Registration registration = server.registerDestinations(id, secret, Map.of(MigrationStreams.CHANNEL,
                TunnelServer.Destination.handOffTo(connection -> {
                    int copy = LibC.dup(FdPassing.descriptor(connection));
                    // The JDK may have made the description non-blocking; the "QEMU" here reads blocking.
                    LibC.fcntl(copy, F_SETFL, LibC.fcntl(copy, F_GETFL, 0) & ~O_NONBLOCK);
                    Thread.ofPlatform().daemon().start(() -> received.complete(receive(copy)));
                })))) {
            long start = System.nanoTime();
            try (SocketChannel sender = TunnelClient.connect(target, id, MigrationStreams.CHANNEL, secret)) {
                send(sender, bytes);
                sender.shutdownOutput();
                if (received.get() != bytes) {
                    throw new IllegalStateException("hand-off receiver got " + received.get() + " of " + bytes + " bytes");
                }
            }
            if (registration.bytesFromSource() != 0) {
                throw new IllegalStateException("hand-off relayed " + registration.bytesFromSource() + " bytes");
            }
            return bytes / 1e6 / ((System.nanoTime() - start) / 1e9);
        }
    }

    private static long receive(int fd) {
        try (Memory buffer = new Memory(IO_BYTES)) {
            long total = 0;
            long n;
            while ((n = LibC.read(fd, buffer, IO_BYTES)) > 0) {
                total += n;
            }
            return total;
        } catch (LastErrorException e) {
            throw new IllegalStateException("hand-off receiver failed: errno " + e.getErrorCode(), e);
        } finally {
            LibC.close(fd);
        }
    }

    private static final int F_GETFL = 3;
    private static final int F_SETFL = 4;
    private static final int O_NONBLOCK = 0x800;

    /** libc for the stand-in target QEMU: its own descriptor, read blocking. */
    private static final class LibC {
        static {
            Native.register(LibC.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
        }

        static native int dup(int fd) throws LastErrorException;

        static native int fcntl(int fd, int command, int argument) throws LastErrorException;

        static native long read(int fd, Pointer buffer, long count) throws LastErrorException;

        static native int close(int fd);
    }

    private static ServerSocketChannel unixReceiver(Path socket) throws IOException {
        Files.deleteIfExists(socket);
        return ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(socket));
    }

    /** Streams {@code bytes} from a sender connected to {@code sendTo} into the receiver; closes the receiver. */
    private static double transfer(ServerSocketChannel receiver, SocketAddress sendTo, long bytes) throws Exception {
        try (receiver) {
            CompletableFuture<Long> received = CompletableFuture.supplyAsync(() -> receive(receiver));
            long start = System.nanoTime();
            try (SocketChannel sender = SocketChannel.open(sendTo)) {
                send(sender, bytes);
                sender.shutdownOutput();
                if (received.get() != bytes) {
                    throw new IllegalStateException("receiver got " + received.get() + " of " + bytes + " bytes");
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            return bytes / 1e6 / seconds;
        }
    }

    private static void send(SocketChannel channel, long bytes) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocateDirect(IO_BYTES);
        byte[] random = new byte[IO_BYTES];
        ThreadLocalRandom.current().nextBytes(random);
        buffer.put(random);
        for (long sent = 0; sent < bytes; sent += IO_BYTES) {
            buffer.clear().limit((int) Math.min(IO_BYTES, bytes - sent));
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        }
    }

    private static long receive(ServerSocketChannel receiver) {
        try (SocketChannel channel = receiver.accept()) {
            ByteBuffer buffer = ByteBuffer.allocateDirect(IO_BYTES);
            long total = 0;
            int n;
            while ((n = channel.read(buffer)) >= 0) {
                total += n;
                buffer.clear();
            }
            return total;
        } catch (IOException e) {
            throw new IllegalStateException("receiver failed", e);
        }
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }
}
