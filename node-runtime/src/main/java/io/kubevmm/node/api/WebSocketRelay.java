package io.kubevmm.node.api;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Relays one WebSocket and one TCP connection in both directions. The protocol (docs/access.md):
 * binary messages carry the bytes; a text message {@value #EOF} says its sender has no more bytes
 * to send (TCP half-close: the other side shuts down its output); once both directions have ended
 * the server closes the WebSocket with 1000. A broken connection, an unknown message or an idle
 * session ends both at once, the WebSocket with a close code and a reason.
 *
 * <p>The TCP side is plain blocking I/O on two virtual threads; bytes toward the TCP side are
 * queued, and the WebSocket is paused while more than {@link #HIGH_WATER} wait.
 */
final class WebSocketRelay {
    private static final Logger LOG = Logger.getLogger(WebSocketRelay.class);
    static final String EOF = "eof";
    static final short NORMAL = 1000;
    static final short GOING_AWAY = 1001;
    static final short UNSUPPORTED = 1003;
    static final short ERROR = 1011;
    private static final int CHUNK = 32 * 1024;
    private static final long HIGH_WATER = 256 * 1024;
    private static final long LOW_WATER = 64 * 1024;
    private static final Buffer EOF_MARK = Buffer.buffer(new byte[0]);

    private final ServerWebSocket ws;
    private final Socket socket;
    private final String what;
    private final AutoCloseable onEnd;
    private final Vertx vertx;
    private final Context context;
    private final Duration idleTimeout;
    private final LinkedBlockingQueue<Buffer> toTcp = new LinkedBlockingQueue<>();
    private final AtomicLong queued = new AtomicLong();
    private final AtomicBoolean ended = new AtomicBoolean();
    private volatile boolean paused;
    private volatile boolean wsDone;
    private volatile boolean tcpDone;
    private volatile long lastActivity = System.nanoTime();
    private volatile Thread writer;
    private long idleTimer = -1;

    /**
     * @param what  the session in words, for log lines and close reasons ("VM default/web port 22")
     * @param onEnd closed once when the relay ends (the TCP socket, the forward, the slot)
     */
    WebSocketRelay(ServerWebSocket ws, Socket socket, String what, AutoCloseable onEnd, Vertx vertx, Duration idleTimeout) {
        this.ws = ws;
        this.socket = socket;
        this.what = what;
        this.onEnd = onEnd;
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        this.idleTimeout = idleTimeout;
    }

    /** Starts relaying; call on the WebSocket's context right after the upgrade. */
    void start() {
        ws.binaryMessageHandler(this::fromWebSocket);
        ws.textMessageHandler(text -> {
            if (EOF.equals(text)) {
                toTcp.add(EOF_MARK);
            } else {
                end(UNSUPPORTED, "unknown text message (only \"" + EOF + "\"); send the bytes as binary messages");
            }
        });
        ws.exceptionHandler(e -> end(ERROR, "WebSocket failed: " + e.getMessage()));
        ws.closeHandler(v -> end(null, null)); // the client went: nothing to tell it
        long every = Math.max(200, Math.min(idleTimeout.toMillis() / 4, 30_000));
        idleTimer = vertx.setPeriodic(every, id -> {
            if (System.nanoTime() - lastActivity > idleTimeout.toNanos()) {
                end(GOING_AWAY, "idle for " + idleTimeout.toSeconds() + " s (kubevmm.node.port-forward.idle-timeout)");
            }
        });
        writer = Thread.ofVirtual().name("portforward-write " + what).start(this::webSocketToTcp);
        Thread.ofVirtual().name("portforward-read " + what).start(this::tcpToWebSocket);
    }

    private void fromWebSocket(Buffer bytes) {
        lastActivity = System.nanoTime();
        if (bytes.length() == 0) {
            return;
        }
        toTcp.add(bytes);
        if (queued.addAndGet(bytes.length()) > HIGH_WATER && !paused) {
            paused = true;
            ws.pause();
        }
    }

    private void webSocketToTcp() {
        try {
            OutputStream out = socket.getOutputStream();
            while (true) {
                Buffer next = toTcp.take();
                if (next == EOF_MARK) {
                    socket.shutdownOutput();
                    wsDone = true;
                    endIfBothDone();
                    return;
                }
                out.write(next.getBytes());
                lastActivity = System.nanoTime();
                if (queued.addAndGet(-next.length()) < LOW_WATER && paused) {
                    paused = false;
                    context.runOnContext(v -> ws.resume());
                }
            }
        } catch (IOException e) {
            end(ERROR, "writing to " + what + " failed: " + e.getMessage());
        } catch (InterruptedException e) {
            // ended meanwhile
        }
    }

    private void tcpToWebSocket() {
        byte[] buf = new byte[CHUNK];
        try {
            InputStream in = socket.getInputStream();
            for (int n; (n = in.read(buf)) >= 0; ) {
                if (n == 0) {
                    continue;
                }
                lastActivity = System.nanoTime();
                // One message in flight: the guest is read only as fast as the client takes it.
                ws.writeBinaryMessage(Buffer.buffer(Arrays.copyOf(buf, n))).toCompletionStage().toCompletableFuture()
                        .get(idleTimeout.toMillis(), TimeUnit.MILLISECONDS);
            }
            ws.writeTextMessage(EOF);
            tcpDone = true;
            endIfBothDone();
        } catch (IOException e) {
            if (!ended.get()) {
                end(ERROR, "connection to " + what + " broke: " + e.getMessage());
            }
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            end(null, null); // the WebSocket is gone or stalled
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            end(GOING_AWAY, "node runtime is shutting down");
        }
    }

    private void endIfBothDone() {
        if (wsDone && tcpDone) {
            end(NORMAL, "");
        }
    }

    /** Ends both sides once; {@code code} null: the WebSocket is closed without a close frame of ours. */
    void end(Short code, String reason) {
        if (!ended.compareAndSet(false, true)) {
            return;
        }
        if (code != null && code != NORMAL) {
            LOG.infof("port-forward to %s ended: %s", what, reason);
        }
        context.runOnContext(v -> vertx.cancelTimer(idleTimer));
        try {
            socket.close(); // unblocks the reader at once
        } catch (IOException e) {
            LOG.debugf("closing %s: %s", what, e.getMessage());
        }
        // Taking the forward away asks the emulator (it may block): never on the event loop.
        Thread.ofVirtual().name("portforward-end " + what).start(() -> {
            try {
                onEnd.close();
            } catch (Exception e) {
                LOG.debugf("closing %s: %s", what, e.getMessage());
            }
        });
        Thread w = writer;
        if (w != null) {
            w.interrupt();
        }
        if (code != null && !ws.isClosed()) {
            ws.close(code, truncate(reason));
        } else if (!ws.isClosed()) {
            ws.close();
        }
    }

    /** A close reason fits in a control frame: 123 bytes of UTF-8. */
    static String truncate(String reason) {
        byte[] bytes = reason.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= 123) {
            return reason;
        }
        String cut = new String(bytes, 0, 120, StandardCharsets.UTF_8);
        return cut.substring(0, Math.max(0, cut.length() - 1)) + "...";
    }
}
