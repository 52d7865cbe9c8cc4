package io.kubevmm.cli;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * A node runtime's port-forward endpoint for CLI tests, speaking the node's protocol (bearer token,
 * binary bytes, text {@code eof} as half-close, close 1000 when both halves ended) in front of a
 * real TCP echo server that stands in for the guest's port. Refuses as the node does: plain HTTP
 * with the reason as text.
 */
final class FakePortForwardNode implements AutoCloseable {
    static final String TOKEN = "s3cret";

    private final Vertx vertx = Vertx.vertx();
    private final HttpServer server;
    private final ServerSocket echo;
    /** The guest port the echo answers as; any other is refused with 409, as a port nobody listens on. */
    final int guestPort = 7;

    FakePortForwardNode() throws Exception {
        echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(this::serveEcho);
        server = vertx.createHttpServer().requestHandler(this::handle).listen(0, "127.0.0.1")
                .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    String endpoint() {
        return "127.0.0.1:" + server.actualPort();
    }

    private void handle(HttpServerRequest request) {
        if (!("Bearer " + TOKEN).equals(request.getHeader("Authorization"))) {
            request.response().setStatusCode(401).end("401 Unauthorized\n");
            return;
        }
        if (!request.path().equals("/api/v1/namespaces/default/vms/demo/portforward")) {
            request.response().setStatusCode(404).end("VM default/other is not on node node-a\n");
            return;
        }
        if (!String.valueOf(guestPort).equals(request.getParam("port"))) {
            request.response().setStatusCode(502).end("cannot forward port " + request.getParam("port") + " of VM default/demo: refused\n");
            return;
        }
        request.toWebSocket().onSuccess(this::relay);
    }

    private void relay(ServerWebSocket ws) {
        Socket guest = new Socket();
        try {
            guest.connect(echo.getLocalSocketAddress());
        } catch (IOException e) {
            ws.close((short) 1011, e.getMessage());
            return;
        }
        boolean[] done = new boolean[2];
        ws.binaryMessageHandler(bytes -> {
            try {
                guest.getOutputStream().write(bytes.getBytes());
            } catch (IOException e) {
                ws.close((short) 1011, e.getMessage());
            }
        });
        ws.textMessageHandler(text -> {
            try {
                guest.shutdownOutput();
            } catch (IOException e) {
                ws.close((short) 1011, e.getMessage());
            }
            synchronized (done) {
                done[0] = true;
                if (done[1]) {
                    ws.close((short) 1000, "");
                }
            }
        });
        ws.closeHandler(v -> {
            try {
                guest.close();
            } catch (IOException ignored) {
                // closing
            }
        });
        Thread.ofVirtual().start(() -> {
            byte[] buf = new byte[8192];
            try (InputStream in = guest.getInputStream()) {
                for (int n; (n = in.read(buf)) >= 0; ) {
                    ws.writeBinaryMessage(Buffer.buffer(Arrays.copyOf(buf, n)));
                }
                ws.writeTextMessage("eof");
                synchronized (done) {
                    done[1] = true;
                    if (done[0]) {
                        ws.close((short) 1000, "");
                    }
                }
            } catch (IOException e) {
                ws.close((short) 1011, "connection to VM default/demo port 7 broke");
            }
        });
    }

    /** Echoes each connection until its client half-closes, then closes its own half. */
    private void serveEcho() {
        while (!echo.isClosed()) {
            try {
                Socket s = echo.accept();
                Thread.ofVirtual().start(() -> {
                    try (s) {
                        s.getInputStream().transferTo(s.getOutputStream());
                        s.shutdownOutput();
                    } catch (IOException ignored) {
                        // the client went
                    }
                });
            } catch (IOException e) {
                return;
            }
        }
    }

    @Override
    public void close() throws Exception {
        echo.close();
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
}
