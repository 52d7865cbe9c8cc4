package io.kubevmm.node.transfer;

import io.kubevmm.node.config.NodeConfig;
import io.kubevmm.node.transfer.tunnel.TunnelServer;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;

/** This node's tunnel listener for migration streams, with TLS as {@link NodeTls} says for both tunnel ends. */
@Startup
@ApplicationScoped
public class TunnelService {
    private static final Logger LOG = Logger.getLogger(TunnelService.class);

    private final TunnelServer server;
    private final NodeTls tls;

    TunnelService(NodeConfig config, NodeTls tls) {
        this.tls = tls;
        this.server = new TunnelServer(new InetSocketAddress(config.bindAddress(), config.tunnel().port()), tls.context());
        try {
            server.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen for migration tunnels on port " + config.tunnel().port()
                    + " (kubevmm.node.tunnel.port / KUBEVMM_NODE_TUNNEL_PORT): " + e.getMessage(), e);
        }
        LOG.infof("migration tunnel listening on %s:%d (%s, per-migration secret)", config.bindAddress(), server.port(), tls.describe());
    }

    public TunnelServer server() { return server; }

    /** Null when tunnels run over plain TCP (still authenticated by the per-migration secret). */
    public SSLContext tls() { return tls.context(); }

    public int port() { return server.port(); }

    @PreDestroy
    void stop() {
        server.close();
    }
}
