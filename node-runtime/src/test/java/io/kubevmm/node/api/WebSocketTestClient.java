package io.kubevmm.node.api;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/** A port-forward client for tests: collects what the server sends, its {@code eof} and its close. */
final class WebSocketTestClient implements WebSocket.Listener {
    record Closed(int code, String reason) { }

    final ByteArrayOutputStream received = new ByteArrayOutputStream();
    final CompletableFuture<Void> eof = new CompletableFuture<>();
    final CompletableFuture<Closed> closed = new CompletableFuture<>();
    WebSocket ws;

    static WebSocketTestClient connect(URI uri, String authorization) throws Exception {
        WebSocketTestClient client = new WebSocketTestClient();
        WebSocket.Builder builder = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(30));
        if (authorization != null) {
            builder.header("Authorization", authorization);
        }
        client.ws = builder.buildAsync(uri, client).get(60, TimeUnit.SECONDS);
        return client;
    }

    void send(String text) {
        ws.sendBinary(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), true).join();
    }

    void sendEof() {
        ws.sendText(WebSocketRelay.EOF, true).join();
    }

    synchronized String receivedText() {
        return received.toString(StandardCharsets.UTF_8);
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
        byte[] bytes = new byte[data.remaining()];
        data.get(bytes);
        synchronized (this) {
            received.writeBytes(bytes);
        }
        webSocket.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        if (WebSocketRelay.EOF.contentEquals(data)) {
            eof.complete(null);
        }
        webSocket.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
        closed.complete(new Closed(statusCode, reason));
        return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
        closed.completeExceptionally(error);
    }
}
