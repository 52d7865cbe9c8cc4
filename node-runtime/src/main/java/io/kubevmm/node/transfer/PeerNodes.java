package io.kubevmm.node.transfer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubevmm.api.v1alpha1.VMNode;
import io.kubevmm.node.config.NodeConfig;
import io.kubevmm.node.lifecycle.RecoveryDecision;
import io.kubevmm.node.transfer.tunnel.TunnelSecrets;
import jakarta.enterprise.context.ApplicationScoped;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * Other node runtimes, reached through the endpoints their VMNode status publishes: their API
 * (tunnel secrets, arrival facts, snapshot artifacts) with TLS as {@link NodeTls} says.
 */
@ApplicationScoped
public class PeerNodes {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final KubernetesClient client;
    private final String token;
    private final NodeTls tls;
    private final HttpClient http;

    PeerNodes(KubernetesClient client, NodeConfig config, NodeTls tls) {
        this.client = client;
        this.token = config.apiToken();
        this.tls = tls;
        this.http = tls.httpClient();
    }

    /** Where a node's migration tunnel listens. */
    public InetSocketAddress tunnelAddress(String node) {
        return address(node, true);
    }

    /**
     * Collects the tunnel secret the target node made for one migration. The target hands it out
     * once, over its authenticated API; it is never stored in the cluster.
     */
    public byte[] collectSecret(String node, String migrationUid) throws IOException {
        InetSocketAddress api = address(node, false);
        HttpRequest request = HttpRequest.newBuilder(tls.apiUri(api, "/api/v1/migrations/" + migrationUid + "/tunnel-secret"))
                .header("Authorization", "Bearer " + token)
                .timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.noBody()).build();
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IOException("node " + node + " refused the tunnel secret: HTTP " + response.statusCode() + " " + response.body());
            }
            JsonNode body = JSON.readTree(response.body());
            return TunnelSecrets.decode(body.path("secret").asText());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while asking node " + node + " for the tunnel secret", e);
        }
    }

    /** GET on another node's authenticated API; the caller closes the body. Fails unless HTTP 200. */
    java.io.InputStream get(String node, String path) throws IOException {
        InetSocketAddress api = address(node, false);
        HttpRequest request = HttpRequest.newBuilder(tls.apiUri(api, path))
                .header("Authorization", "Bearer " + token)
                .timeout(Duration.ofMinutes(10))
                .GET().build();
        try {
            HttpResponse<java.io.InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
            if (response.statusCode() != 200) {
                String body;
                try (var in = response.body()) {
                    body = new String(in.readNBytes(2000), java.nio.charset.StandardCharsets.UTF_8);
                }
                throw new IOException("node " + node + " answered HTTP " + response.statusCode() + " to GET " + path + ": " + body);
            }
            return response.body();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while fetching " + path + " from node " + node, e);
        }
    }

    /** The manifest of snapshot {@code name} in the store of {@code node}; the caller closes it. */
    public java.io.InputStream snapshotManifest(String node, String name) throws IOException {
        return get(node, "/api/v1/snapshots/" + name + "/manifest");
    }

    /** One artifact file of snapshot {@code name} in the store of {@code node}; the caller closes it. */
    public java.io.InputStream snapshotFile(String node, String name, String file) throws IOException {
        return get(node, "/api/v1/snapshots/" + name + "/files/" + file);
    }

    /**
     * Asks the target of a migration whether it receives or runs the VM. Anything but a clear
     * answer (node down, unreachable, an older node runtime) is {@code UNKNOWN}.
     */
    public RecoveryDecision.Target arrival(String node, String namespace, String vm, String migrationUid) {
        try (java.io.InputStream in = get(node, "/api/v1/namespaces/" + namespace + "/vms/" + vm + "/arrival?migration=" + migrationUid)) {
            JsonNode facts = JSON.readTree(in);
            if (facts.path("runs").asBoolean(false)) {
                return RecoveryDecision.Target.RUNS;
            }
            if (facts.path("receiving").asBoolean(false)) {
                return RecoveryDecision.Target.RECEIVING;
            }
            if (!facts.has("leftover") || facts.path("leftover").asBoolean(true)) {
                return RecoveryDecision.Target.UNKNOWN;
            }
            return RecoveryDecision.Target.ABSENT;
        } catch (IOException | RuntimeException e) {
            return RecoveryDecision.Target.UNKNOWN;
        }
    }

    private InetSocketAddress address(String node, boolean tunnel) {
        VMNode vmNode = client.resources(VMNode.class).withName(node).get();
        String endpoint = vmNode == null || vmNode.getStatus() == null ? null
                : tunnel ? vmNode.getStatus().getMigrationEndpoint() : vmNode.getStatus().getEndpoint();
        if (endpoint == null || !endpoint.contains(":")) {
            throw new IllegalStateException("VMNode " + node + " publishes no " + (tunnel ? "migrationEndpoint" : "endpoint")
                    + " in its status; is its node runtime up?");
        }
        int colon = endpoint.lastIndexOf(':');
        return new InetSocketAddress(endpoint.substring(0, colon), Integer.parseInt(endpoint.substring(colon + 1)));
    }
}
