package io.kubevmm.node.migration;

import io.kubevmm.node.config.NodeConfig;
import io.kubevmm.node.migration.tunnel.TunnelServer;
import io.kubevmm.node.migration.tunnel.TunnelTls;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.stream.Stream;

/** This node's migration tunnel listener, and the TLS material both tunnel ends use when configured. */
@Startup
@ApplicationScoped
public class TunnelService {
    private static final Logger LOG = Logger.getLogger(TunnelService.class);

    private final TunnelServer server;
    private final SSLContext tls;

    TunnelService(NodeConfig config) {
        this.tls = tls(config.tunnel());
        this.server = new TunnelServer(new InetSocketAddress(config.bindAddress(), config.tunnel().port()), tls);
        try {
            server.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen for migration tunnels on port " + config.tunnel().port()
                    + " (kubevmm.node.tunnel.port / KUBEVMM_NODE_TUNNEL_PORT): " + e.getMessage(), e);
        }
        LOG.infof("migration tunnel listening on %s:%d (%s)", config.bindAddress(), server.port(), tls == null
                ? "plain TCP, per-migration secret" : "mutual TLS, per-migration secret");
    }

    private static SSLContext tls(NodeConfig.Tunnel tunnel) {
        long set = Stream.of(tunnel.tlsCert(), tunnel.tlsKey(), tunnel.tlsCa()).filter(java.util.Optional::isPresent).count();
        if (set == 0) {
            return null;
        }
        if (set < 3) {
            throw new IllegalStateException("migration TLS needs all of kubevmm.node.tunnel.tls-cert, tls-key and tls-ca "
                    + "(KUBEVMM_NODE_TUNNEL_TLS_CERT, _KEY, _CA); only " + set + " of them are set");
        }
        try {
            return TunnelTls.fromPem(tunnel.tlsCert().get(), tunnel.tlsKey().get(), tunnel.tlsCa().get());
        } catch (Exception e) {
            throw new IllegalStateException("cannot load migration TLS material: " + e.getMessage(), e);
        }
    }

    public TunnelServer server() { return server; }

    /** Null when tunnels run over plain TCP (still authenticated by the per-migration secret). */
    public SSLContext tls() { return tls; }

    public int port() { return server.port(); }

    @PreDestroy
    void stop() {
        server.close();
    }
}
