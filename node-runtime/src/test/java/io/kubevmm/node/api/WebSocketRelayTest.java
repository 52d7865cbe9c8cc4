package io.kubevmm.node.api;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

/** The node's relay between a WebSocket and a TCP connection, with a real TCP server as the guest's port. */
class WebSocketRelayTest {
    Vertx vertx;
    HttpServer server;
    ServerSocket guest;
    Consumer<Socket> guestBehaviour;
    Duration idle = Duration.ofMinutes(5);
    final CompletableFuture<Void> sessionClosed = new CompletableFuture<>();

    @BeforeEach
    void start() throws Exception {
        guest = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        guestBehaviour = WebSocketRelayTest::echoUntilHalfClosed;
        Thread.ofVirtual().start(() -> {
            while (!guest.isClosed()) {
                try {
                    Socket s = guest.accept();
                    Thread.ofVirtual().start(() -> guestBehaviour.accept(s));
                } catch (IOException e) {
                    return;
                }
            }
        });
        vertx = Vertx.vertx();
        // Upgraded from a request handler, as PortForwardApi does.
        server = vertx.createHttpServer().requestHandler(request -> request.toWebSocket().onSuccess(ws -> {
            Socket tcp = new Socket();
            try {
                tcp.connect(guest.getLocalSocketAddress());
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            new WebSocketRelay(ws, tcp, "test port", () -> {
                tcp.close();
                sessionClosed.complete(null);
            }, vertx, idle).start();
        })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws Exception {
        guest.close();
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    static void echoUntilHalfClosed(Socket s) {
        try (s) {
            s.getInputStream().transferTo(s.getOutputStream());
            s.shutdownOutput();
        } catch (IOException ignored) {
            // the relay went
        }
    }

    WebSocketTestClient connect() throws Exception {
        return WebSocketTestClient.connect(URI.create("ws://127.0.0.1:" + server.actualPort() + "/"), null);
    }

    @Test
    void bytesGoBothWaysAndAHalfCloseEndsTheSessionCleanly() throws Exception {
        WebSocketTestClient c = connect();
        String big = "0123456789abcdef".repeat(128 * 1024); // 2 MiB: more than the relay queues before it pauses
        for (int i = 0; i < big.length(); i += 60_000) {
            c.send(big.substring(i, Math.min(big.length(), i + 60_000)));
        }
        c.sendEof();
        c.eof.get(30, TimeUnit.SECONDS);
        assertThat(c.receivedText()).isEqualTo(big);
        assertThat(c.closed.get(10, TimeUnit.SECONDS)).isEqualTo(new WebSocketTestClient.Closed(1000, ""));
        sessionClosed.get(5, TimeUnit.SECONDS);
    }

    @Test
    void theGuestEndingFirstIsAnEofAndTheClientMaySendOnUntilItEndsToo() throws Exception {
        guestBehaviour = s -> {
            try {
                s.getOutputStream().write("banner\n".getBytes());
                s.shutdownOutput();
                byte[] rest = s.getInputStream().readAllBytes();
                assertThat(new String(rest)).isEqualTo("late\n");
                s.close();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        };
        WebSocketTestClient c = connect();
        c.eof.get(10, TimeUnit.SECONDS);
        assertThat(c.receivedText()).isEqualTo("banner\n");
        assertThat(c.closed).isNotDone();
        c.send("late\n");
        c.sendEof();
        assertThat(c.closed.get(10, TimeUnit.SECONDS).code()).isEqualTo(1000);
    }

    @Test
    void anIdleSessionIsClosedWithTheReason() throws Exception {
        idle = Duration.ofMillis(800);
        stop();
        start();
        WebSocketTestClient c = connect();
        WebSocketTestClient.Closed closed = c.closed.get(10, TimeUnit.SECONDS);
        assertThat(closed.code()).isEqualTo(1001);
        assertThat(closed.reason()).contains("idle").contains("idle-timeout");
        sessionClosed.get(5, TimeUnit.SECONDS);
    }

    @Test
    void aClientThatGoesAwayEndsTheSessionAndItsGuestConnection() throws Exception {
        CompletableFuture<Integer> guestSaw = new CompletableFuture<>();
        guestBehaviour = s -> {
            try (s) {
                guestSaw.complete(s.getInputStream().read());
            } catch (IOException e) {
                guestSaw.complete(-2);
            }
        };
        WebSocketTestClient c = connect();
        c.ws.abort();
        sessionClosed.get(10, TimeUnit.SECONDS);
        assertThat(guestSaw.get(10, TimeUnit.SECONDS)).as("the guest's connection was closed").isIn(-1, -2);
    }

    @Test
    void closeReasonsFitAControlFrame() {
        assertThat(WebSocketRelay.truncate("short")).isEqualTo("short");
        assertThat(WebSocketRelay.truncate("é".repeat(100)).getBytes(java.nio.charset.StandardCharsets.UTF_8).length).isLessThanOrEqualTo(123);
    }
}
