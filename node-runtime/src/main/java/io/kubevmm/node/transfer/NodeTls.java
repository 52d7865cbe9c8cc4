package io.kubevmm.node.transfer;

import io.kubevmm.node.config.NodeConfig;
import io.kubevmm.node.transfer.tunnel.TunnelTls;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import javax.net.ssl.SSLContext;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The one TLS switch of node-to-node traffic. With {@code kubevmm.node.tunnel.tls-cert},
 * {@code tls-key} and {@code tls-ca} set, every node presents its certificate and trusts only
 * the cluster CA; with none of them set, traffic runs over plain TCP (the tunnel still proves
 * each connection's per-migration secret, the node API its bearer token). Both ends of the
 * tunnel and the client of other nodes' APIs ({@link PeerNodes}) take their TLS from here and
 * nowhere else.
 *
 * <p>The node API server itself still serves plain HTTP, so {@link #apiUri} speaks {@code http}
 * whatever the switch says; the peer client already carries this node's TLS context, ready for
 * a server that answers over TLS.
 */
@ApplicationScoped
public class NodeTls {
    private final SSLContext context;

    @Inject
    NodeTls(NodeConfig config) {
        this(load(config.tunnel()));
    }

    /** A switch set by hand (tests, benchmarks): {@code contextOrNull} null is plain TCP. */
    public NodeTls(SSLContext contextOrNull) {
        this.context = contextOrNull;
    }

    /** Null when node-to-node traffic runs over plain TCP. */
    public SSLContext context() { return context; }

    public boolean enabled() { return context != null; }

    /** The switch in words, for logs. */
    public String describe() {
        return enabled() ? "mutual TLS, cluster CA" : "plain TCP";
    }

    /** The address of a path on another node's API. */
    public URI apiUri(InetSocketAddress api, String path) {
        // The node API server listens for plain HTTP only; once it serves TLS this follows enabled().
        return URI.create("http://" + api.getHostString() + ":" + api.getPort() + path);
    }

    /** An HTTP client for other nodes' APIs, presenting this node's certificate when the switch is on. */
    public HttpClient httpClient() {
        HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
        if (context != null) {
            builder.sslContext(context);
        }
        return builder.build();
    }

    static SSLContext load(NodeConfig.Tunnel tunnel) {
        long set = Stream.of(tunnel.tlsCert(), tunnel.tlsKey(), tunnel.tlsCa()).filter(Optional::isPresent).count();
        if (set == 0) {
            return null;
        }
        if (set < 3) {
            throw new IllegalStateException("node-to-node TLS needs all of kubevmm.node.tunnel.tls-cert, tls-key and tls-ca "
                    + "(KUBEVMM_NODE_TUNNEL_TLS_CERT, _KEY, _CA); only " + set + " of them are set");
        }
        try {
            return TunnelTls.fromPem(tunnel.tlsCert().get(), tunnel.tlsKey().get(), tunnel.tlsCa().get());
        } catch (Exception e) {
            throw new IllegalStateException("cannot load node-to-node TLS material: " + e.getMessage(), e);
        }
    }
}
