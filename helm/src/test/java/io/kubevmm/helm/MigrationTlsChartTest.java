package io.kubevmm.helm;

import static io.kubevmm.helm.ChartTest.CHART;
import static io.kubevmm.helm.ChartTest.NS;
import static io.kubevmm.helm.ChartTest.RELEASE;
import static io.kubevmm.helm.ChartTest.all;
import static io.kubevmm.helm.ChartTest.assertRejected;
import static io.kubevmm.helm.ChartTest.container;
import static io.kubevmm.helm.ChartTest.env;
import static io.kubevmm.helm.ChartTest.one;
import static io.kubevmm.helm.ChartTest.parse;
import static org.assertj.core.api.Assertions.assertThat;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The node runtime's migration tunnel: its port, and TLS material generated, provided or issued by cert-manager. */
class MigrationTlsChartTest {
    private static final String TLS_DIR = "/etc/kubevmm/migration-tls";

    private static List<HasMetadata> render(UnaryOperator<TemplateCommand> values) {
        return parse(values.apply(new Helm(CHART).template().withName(RELEASE).withNamespace(NS)).call());
    }

    private static List<GenericKubernetesResource> certManagerObjects(List<HasMetadata> objs) {
        return all(objs, GenericKubernetesResource.class).stream()
                .filter(o -> o.getApiVersion().startsWith("cert-manager.io/")).toList();
    }

    private static byte[] pem(String base64Pem) {
        String text = new String(Base64.getDecoder().decode(base64Pem), StandardCharsets.US_ASCII);
        return Base64.getMimeDecoder().decode(text.replaceAll("-----(BEGIN|END) [A-Z ]+-----", ""));
    }

    private static X509Certificate certificate(String base64Pem) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(Base64.getDecoder().decode(base64Pem)));
    }

    /** The DaemonSet reads the Secret {@code secretName} through a read-only mount and three env paths. */
    private static void assertNodeRuntimeReadsTls(List<HasMetadata> objs, String secretName) {
        DaemonSet ds = one(objs, DaemonSet.class);
        Container c = container(ds);
        Volume volume = ds.getSpec().getTemplate().getSpec().getVolumes().stream()
                .filter(v -> v.getName().equals("migration-tls")).findFirst().orElseThrow();
        assertThat(volume.getSecret().getSecretName()).isEqualTo(secretName);
        assertThat(c.getVolumeMounts()).anySatisfy(m -> {
            assertThat(m.getName()).isEqualTo("migration-tls");
            assertThat(m.getMountPath()).isEqualTo(TLS_DIR);
            assertThat(m.getReadOnly()).isTrue();
        });
        assertThat(env(c, "KUBEVMM_NODE_TUNNEL_TLS_CERT").getValue()).isEqualTo(TLS_DIR + "/tls.crt");
        assertThat(env(c, "KUBEVMM_NODE_TUNNEL_TLS_KEY").getValue()).isEqualTo(TLS_DIR + "/tls.key");
        assertThat(env(c, "KUBEVMM_NODE_TUNNEL_TLS_CA").getValue()).isEqualTo(TLS_DIR + "/ca.crt");
    }

    @Test
    void tunnelPortIsExposedAndPassedToTheNodeRuntime() {
        Container c = container(one(render(t -> t), DaemonSet.class));
        assertThat(env(c, "KUBEVMM_NODE_TUNNEL_PORT").getValue()).isEqualTo("8091");
        assertThat(c.getPorts()).anySatisfy(p -> {
            assertThat(p.getName()).isEqualTo("tunnel");
            assertThat(p.getContainerPort()).isEqualTo(8091);
        });
        Container custom = container(one(render(t -> t.set("nodeRuntime.tunnelPort", "9191")), DaemonSet.class));
        assertThat(env(custom, "KUBEVMM_NODE_TUNNEL_PORT").getValue()).isEqualTo("9191");
    }

    @Test
    void defaultTlsIsGeneratedAsPkcs8KeyAndACertificateSignedByTheCa() throws Exception {
        List<HasMetadata> objs = render(t -> t);
        Secret secret = all(objs, Secret.class).stream()
                .filter(s -> s.getMetadata().getName().equals("kubevmm-migration-tls")).findFirst().orElseThrow();
        assertThat(secret.getType()).isEqualTo("kubernetes.io/tls");
        Map<String, String> data = secret.getData();
        assertThat(data).containsOnlyKeys("tls.crt", "tls.key", "ca.crt");
        assertThat(new String(Base64.getDecoder().decode(data.get("tls.key")), StandardCharsets.US_ASCII))
                .startsWith("-----BEGIN PRIVATE KEY-----");

        PrivateKey key = KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(pem(data.get("tls.key"))));
        X509Certificate cert = certificate(data.get("tls.crt"));
        X509Certificate ca = certificate(data.get("ca.crt"));
        cert.verify(ca.getPublicKey());
        assertThat(cert.getExtendedKeyUsage()).contains("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"); // server and client auth
        // The key belongs to the certificate: what it signs, the certificate's public key verifies.
        Signature signer = Signature.getInstance("Ed25519");
        signer.initSign(key);
        signer.update(new byte[] {1, 2, 3});
        Signature verifier = Signature.getInstance("Ed25519");
        verifier.initVerify(cert.getPublicKey());
        verifier.update(new byte[] {1, 2, 3});
        assertThat(verifier.verify(signer.sign())).isTrue();

        assertNodeRuntimeReadsTls(objs, "kubevmm-migration-tls");
        assertThat(certManagerObjects(objs)).isEmpty();
    }

    @Test
    void anExistingSecretIsMountedAndNothingIsGenerated() {
        List<HasMetadata> objs = render(t -> t.set("migration.tls.existingSecret", "my-migration-tls"));
        assertThat(all(objs, Secret.class)).extracting(s -> s.getMetadata().getName()).containsExactly("kubevmm-node-token");
        assertNodeRuntimeReadsTls(objs, "my-migration-tls");
        assertThat(certManagerObjects(objs)).isEmpty();
    }

    @Test
    void certManagerIssuesThePkcs8SecretFromItsOwnCa() {
        List<HasMetadata> objs = render(t -> t.set("migration.tls.certManager.enabled", "true"));
        assertThat(all(objs, Secret.class)).extracting(s -> s.getMetadata().getName()).containsExactly("kubevmm-node-token");
        List<GenericKubernetesResource> cm = certManagerObjects(objs);
        assertThat(cm).extracting(o -> o.getKind() + "/" + o.getMetadata().getName()).containsExactlyInAnyOrder(
                "Issuer/kubevmm-selfsigned", "Certificate/kubevmm-migration-ca",
                "Issuer/kubevmm-migration-ca", "Certificate/kubevmm-migration-tls");
        GenericKubernetesResource ca = cm.stream().filter(o -> o.getMetadata().getName().equals("kubevmm-migration-ca")
                && o.getKind().equals("Certificate")).findFirst().orElseThrow();
        assertThat((Object) ca.get("spec", "isCA")).isEqualTo(true);
        assertThat((Object) ca.get("spec", "issuerRef", "name")).isEqualTo("kubevmm-selfsigned");
        GenericKubernetesResource node = cm.stream().filter(o -> o.getMetadata().getName().equals("kubevmm-migration-tls"))
                .findFirst().orElseThrow();
        assertThat((Object) node.get("spec", "secretName")).isEqualTo("kubevmm-migration-tls");
        assertThat((Object) node.get("spec", "privateKey", "encoding")).isEqualTo("PKCS8");
        assertThat((Object) node.get("spec", "issuerRef", "name")).isEqualTo("kubevmm-migration-ca");
        assertThat((List<Object>) node.get("spec", "usages")).contains("server auth", "client auth");
        assertNodeRuntimeReadsTls(objs, "kubevmm-migration-tls");
    }

    @Test
    void disabledTlsMountsNothingAndTheTunnelStillListens() {
        List<HasMetadata> objs = render(t -> t.set("migration.tls.enabled", "false").set("migration.tls.certManager.enabled", "true"));
        assertThat(all(objs, Secret.class)).extracting(s -> s.getMetadata().getName()).containsExactly("kubevmm-node-token");
        assertThat(certManagerObjects(objs)).isEmpty();
        DaemonSet ds = one(objs, DaemonSet.class);
        assertThat(ds.getSpec().getTemplate().getSpec().getVolumes()).noneMatch(v -> v.getName().equals("migration-tls"));
        assertThat(container(ds).getEnv()).noneMatch(e -> e.getName().startsWith("KUBEVMM_NODE_TUNNEL_TLS_"));
        assertThat(env(container(ds), "KUBEVMM_NODE_TUNNEL_PORT").getValue()).isEqualTo("8091");
    }

    @Test
    void schemaRejectsANonBooleanTlsSwitch(@TempDir Path tmp) throws IOException {
        assertRejected(tmp, "migration:\n  tls:\n    enabled: \"yes\"\n", "enabled");
    }

    @Test
    void schemaRejectsTheRemovedMigrationTlsPemValues(@TempDir Path tmp) throws IOException {
        assertRejected(tmp, "migration:\n  tls:\n    cert: \"-----BEGIN CERTIFICATE-----\"\n", "cert");
    }
}
