package io.kubevmm.node.transfer;

import io.kubevmm.node.config.NodeConfig;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLContext;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The one TLS switch: what the configuration turns on, and that the peer client takes it. */
class NodeTlsTest {

    @Test
    void noMaterialIsPlainTcp() {
        assertThat(NodeTls.load(tunnel(null, null, null))).isNull();
        NodeTls plain = new NodeTls((SSLContext) null);
        assertThat(plain.enabled()).isFalse();
        assertThat(plain.httpClient().sslContext()).isNotNull(); // the JDK default, trusting the system CAs
    }

    @Test
    void partOfTheMaterialIsRefusedNamingTheKeys() {
        assertThatThrownBy(() -> NodeTls.load(tunnel(Path.of("/etc/node.pem"), null, Path.of("/etc/ca.pem"))))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("kubevmm.node.tunnel.tls-cert, tls-key and tls-ca")
                .hasMessageContaining("only 2 of them are set");
    }

    @Test
    void unreadableMaterialIsRefused() {
        assertThatThrownBy(() -> NodeTls.load(tunnel(Path.of("/nonexistent/node.pem"), Path.of("/nonexistent/node.key"),
                Path.of("/nonexistent/ca.pem"))))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("cannot load node-to-node TLS material");
    }

    @Test
    void thePeerClientPresentsTheSwitchsContext() throws Exception {
        SSLContext context = SSLContext.getInstance("TLSv1.3");
        context.init(null, null, null);
        NodeTls on = new NodeTls(context);
        assertThat(on.enabled()).isTrue();
        assertThat(on.httpClient().sslContext()).isSameAs(context);
        // The node API server answers plain HTTP only (see NodeTls): the address stays http until it serves TLS.
        assertThat(on.apiUri(new InetSocketAddress("10.0.0.7", 8090), "/api/v1/x").toString()).isEqualTo("http://10.0.0.7:8090/api/v1/x");
    }

    private static NodeConfig.Tunnel tunnel(Path cert, Path key, Path ca) {
        return new NodeConfig.Tunnel() {
            @Override public int port() { return 0; }
            @Override public Optional<Path> tlsCert() { return Optional.ofNullable(cert); }
            @Override public Optional<Path> tlsKey() { return Optional.ofNullable(key); }
            @Override public Optional<Path> tlsCa() { return Optional.ofNullable(ca); }
        };
    }
}
