package io.kubevmm.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One TCP connection to a guest port, carried by a WebSocket to the node runtime that runs the VM:
 * {@code GET /api/v1/namespaces/{ns}/vms/{name}/portforward?port=N} with the bearer token. Binary
 * messages are the bytes; a text message {@code eof} is a half-close; the node closes the WebSocket
 * once both directions have ended (docs/access.md).
 */
final class GuestTunnel {
    static final String EOF = "eof";
    /** WebSocket close code 1006: the connection ended without a close handshake. */
    static final int ABNORMAL = 1006;
    private static final int CHUNK = 32 * 1024;
    private static final Duration OPEN_TIMEOUT = Duration.ofSeconds(60);

    /** The local end of the connection: bytes to send, where received bytes go, and its half-close. */
    interface LocalEnd {
        InputStream in() throws IOException;

        OutputStream out() throws IOException;

        /** No more bytes will come from the guest (TCP: shutdownOutput; stdio: close stdout). */
        void endOutput() throws IOException;

        void close();
    }

    /** How a session ended: 1000 is a clean end of both directions, anything else comes with the node's reason. */
    record Ending(int code, String reason) {
        boolean clean() { return code == WebSocket.NORMAL_CLOSURE; }
    }

    private final String node;
    private final String baseUrl;
    private final String token;
    private final HttpClient http;

    GuestTunnel(NodeAccess.VmNode at) {
        this(at.node(), at.endpoint(), at.token());
    }

    GuestTunnel(String node, String endpoint, String token) {
        this.node = node;
        this.baseUrl = NodeAccess.baseUrl(endpoint).replaceFirst("^http", "ws");
        this.token = token;
        // Listener callbacks write to the local end and may block: never on a shared pool thread.
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
                .executor(Executors.newVirtualThreadPerTaskExecutor()).build();
    }

    /** Opens a session to {@code guestPort} and relays it with {@code local} until both ends are done. */
    Ending relay(String namespace, String name, int guestPort, LocalEnd local) throws InterruptedException {
        Listener listener = new Listener(local);
        WebSocket ws = open(namespace, name, guestPort, listener);
        Thread sender = Thread.ofVirtual().name("portforward-send").start(() -> send(ws, local, listener));
        try {
            return listener.ended.get();
        } catch (ExecutionException e) {
            return new Ending(ABNORMAL, "connection to node " + node + " broke: " + ApiErrors.reason(e.getCause()));
        } finally {
            ws.abort();
            local.close();
            sender.interrupt();
        }
    }

    private WebSocket open(String namespace, String name, int guestPort, Listener listener) throws InterruptedException {
        URI uri = URI.create(baseUrl + "/api/v1/namespaces/" + encode(namespace) + "/vms/" + encode(name) + "/portforward?port=" + guestPort);
        try {
            return http.newWebSocketBuilder().header("Authorization", "Bearer " + token).connectTimeout(OPEN_TIMEOUT)
                    .buildAsync(uri, listener).get(OPEN_TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new CliException("the node runtime of node " + node + " did not open port " + guestPort + " of " + name
                    + " within " + OPEN_TIMEOUT.toSeconds() + " s");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof WebSocketHandshakeException refused) {
                throw refusal(refused, namespace, name, guestPort);
            }
            throw new CliException("cannot reach the node runtime of node " + node + " at " + baseUrl + " ("
                    + ApiErrors.reason(e.getCause()) + "); is it running? kubevmm get vmnode " + node);
        }
    }

    private CliException refusal(WebSocketHandshakeException refused, String namespace, String name, int guestPort) {
        int status = refused.getResponse().statusCode();
        Object body = refused.getResponse().body();
        String said = body == null ? "" : body.toString().strip().lines().findFirst().orElse("");
        return switch (status) {
            case 401, 403 -> new CliException("the node runtime of node " + node + " refused the token (HTTP " + status
                    + "); set " + NodeAccess.TOKEN_VARIABLE + " to the node API token (the local cluster keeps it in .kubevmm/node-token)");
            default -> new CliException(said.isEmpty()
                    ? "node " + node + " refused a port-forward to port " + guestPort + " of " + namespace + "/" + name + " (HTTP " + status + ")"
                    : said);
        };
    }

    /** Local bytes to the node, then {@code eof}; one message in flight, so the local side is read only as fast as it goes. */
    private static void send(WebSocket ws, LocalEnd local, Listener listener) {
        byte[] buf = new byte[CHUNK];
        try {
            InputStream in = local.in();
            for (int n; (n = in.read(buf)) >= 0; ) {
                if (n > 0) {
                    ws.sendBinary(ByteBuffer.wrap(buf, 0, n), true).get();
                }
            }
            ws.sendText(EOF, true).get();
        } catch (IOException | ExecutionException e) {
            listener.ended.complete(new Ending(ABNORMAL, "local connection ended: " + ApiErrors.reason(e)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the session ended meanwhile
        }
    }

    private static final class Listener implements WebSocket.Listener {
        final CompletableFuture<Ending> ended = new CompletableFuture<>();
        private final LocalEnd local;

        Listener(LocalEnd local) {
            this.local = local;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            try {
                byte[] bytes = new byte[data.remaining()];
                data.get(bytes);
                OutputStream out = local.out();
                out.write(bytes);
                out.flush();
                ws.request(1);
            } catch (IOException e) {
                ended.complete(new Ending(ABNORMAL, "local connection ended: " + ApiErrors.reason(e)));
            }
            return null;
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            if (EOF.contentEquals(data)) {
                try {
                    local.endOutput();
                } catch (IOException e) {
                    ended.complete(new Ending(ABNORMAL, "local connection ended: " + ApiErrors.reason(e)));
                }
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            ended.complete(new Ending(statusCode, reason));
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            ended.completeExceptionally(error);
        }
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
