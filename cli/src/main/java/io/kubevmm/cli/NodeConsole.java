package io.kubevmm.cli;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Client of one node runtime's console API:
 * {@code GET /api/v1/namespaces/{ns}/vms/{name}/console?lines=N|fromByte=N} with a bearer token;
 * the response header {@code X-Console-Offset} says where to continue.
 */
final class NodeConsole {
    /** Some console text and the byte offset just after it. */
    record Chunk(String text, long offset) { }

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String node;
    private final String baseUrl;
    private final String token;

    NodeConsole(String node, String endpoint, String token) {
        this.node = node;
        this.baseUrl = NodeAccess.baseUrl(endpoint);
        this.token = token;
    }

    Chunk tail(String namespace, String name, int lines) throws InterruptedException {
        return get(namespace, name, "lines=" + lines);
    }

    Chunk from(String namespace, String name, long offset) throws InterruptedException {
        return get(namespace, name, "fromByte=" + offset);
    }

    private Chunk get(String namespace, String name, String query) throws InterruptedException {
        URI uri = URI.create(baseUrl + "/api/v1/namespaces/" + encode(namespace) + "/vms/" + encode(name) + "/console?" + query);
        HttpRequest request = HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + token)
                .timeout(Duration.ofSeconds(30)).GET().build();
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new CliException("cannot reach the node runtime of node " + node + " at " + baseUrl + " (" + ApiErrors.reason(e)
                    + "); is it running? kubevmm get vmnode " + node);
        }
        return switch (response.statusCode()) {
            case 200 -> new Chunk(response.body(), response.headers().firstValueAsLong("X-Console-Offset").orElse(-1));
            case 401, 403 -> throw new CliException("the node runtime of node " + node + " refused the token (HTTP "
                    + response.statusCode() + "); set KUBEVMM_NODE_TOKEN to the node API token"
                    + " (the local cluster keeps it in .kubevmm/node-token)");
            case 404 -> throw new CliException("node " + node + " has no console for " + namespace + "/" + name
                    + firstLine(response.body()));
            default -> throw new CliException("the node runtime of node " + node + " answered HTTP " + response.statusCode()
                    + firstLine(response.body()));
        };
    }

    private static String firstLine(String body) {
        if (body == null || body.isBlank()) {
            return "";
        }
        String line = body.strip().lines().findFirst().orElse("");
        return ": " + (line.length() > 200 ? line.substring(0, 200) + "..." : line);
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
