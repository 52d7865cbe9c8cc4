package io.kubevmm.node.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP server on loopback (the JDK's) serving files as images: what an image source's
 * URL points at in tests. Counts requests per path, can hold answers until released, and can
 * announce a Content-Length far beyond what it sends (a disk-full case without filling a disk).
 */
public final class ImageServer implements AutoCloseable {
    private final HttpServer server;
    private final Map<String, Path> files = new ConcurrentHashMap<>();
    private final Map<String, Long> claimedLengths = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> requests = new ConcurrentHashMap<>();
    private volatile CountDownLatch hold = new CountDownLatch(0);

    public ImageServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", this::handle);
        server.start();
    }

    /** Serves {@code file} at {@code /name}; returns its URL. */
    public String serve(String name, Path file) {
        files.put("/" + name, file);
        return url(name);
    }

    /** Answers {@code /name} with a Content-Length of {@code length} bytes and then only a few. */
    public String claimLength(String name, Path file, long length) {
        claimedLengths.put("/" + name, length);
        return serve(name, file);
    }

    public String url(String name) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/" + name;
    }

    /** Answers wait until {@link #release()}. */
    public void holdAnswers() { hold = new CountDownLatch(1); }

    public void release() { hold.countDown(); }

    public int requests(String name) {
        AtomicInteger n = requests.get("/" + name);
        return n == null ? 0 : n.get();
    }

    private void handle(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        requests.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
        try {
            if (!hold.await(60, TimeUnit.SECONDS)) {
                throw new IOException("never released");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Path file = files.get(path);
        try (exchange) {
            if (file == null) {
                exchange.sendResponseHeaders(404, -1);
                return;
            }
            Long claimed = claimedLengths.get(path);
            exchange.sendResponseHeaders(200, claimed != null ? claimed : Files.size(file));
            try (InputStream in = Files.newInputStream(file); OutputStream out = exchange.getResponseBody()) {
                if (claimed != null) {
                    out.write(in.readNBytes(16));
                    out.flush(); // the headers go out now; the missing bytes never do
                } else {
                    in.transferTo(out);
                }
            }
        } catch (IOException e) {
            // the client hung up (a refused download): nothing to answer
        }
    }

    public static String sha256(Path file) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 16];
            int n;
            while ((n = in.read(buffer)) > 0) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    @Override
    public void close() {
        release();
        server.stop(0);
    }
}
