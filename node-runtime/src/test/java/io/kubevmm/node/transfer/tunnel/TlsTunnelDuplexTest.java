package io.kubevmm.node.transfer.tunnel;

import java.nio.file.Path;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** The duplex contract over mutual TLS: an RSA-keyed target node and an EC-keyed source node of one CA. */
class TlsTunnelDuplexTest extends TunnelDuplexContract {
    @TempDir
    static Path certificates;
    private static SSLContext target;
    private static SSLContext source;

    @BeforeAll
    static void issueCertificates() throws Exception {
        TestCertificates cluster = TestCertificates.authority(certificates, "cluster-ca");
        target = cluster.node("node-b", "rsa:2048", cluster);
        source = cluster.node("node-a", "ec", cluster);
    }

    @Override
    SSLContext targetTls() {
        return target;
    }

    @Override
    SSLContext sourceTls() {
        return source;
    }

    @Override
    long bulkBytes() {
        return 16L << 20;
    }
}
