package io.kubevmm.node.transfer.tunnel;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS for the tunnel from the PEM files a cluster hands out (cert-manager, a mounted Secret):
 * every node presents its certificate and trusts only the cluster CA, so the tunnel is mutually
 * authenticated on top of the per-migration secret.
 */
public final class TunnelTls {
    private static final Pattern PRIVATE_KEY = Pattern.compile(
            "-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");
    private static final List<String> KEY_ALGORITHMS = List.of("RSA", "EC", "Ed25519");
    private static final char[] IN_MEMORY_PASSWORD = "kubevmm-tunnel".toCharArray();

    private TunnelTls() { }

    /**
     * An SSLContext for both ends of the tunnel.
     *
     * @param certChain        this node's certificate, then any intermediates (PEM)
     * @param privateKeyPkcs8  its key as unencrypted PKCS#8 ("BEGIN PRIVATE KEY"), RSA or EC
     * @param caBundle         the CA certificates that peers' certificates must chain to (PEM)
     */
    public static SSLContext fromPem(Path certChain, Path privateKeyPkcs8, Path caBundle)
            throws IOException, GeneralSecurityException {
        List<Certificate> chain = certificates(certChain);
        PrivateKey key = privateKey(privateKeyPkcs8);

        KeyStore identity = KeyStore.getInstance("PKCS12");
        identity.load(null, null);
        identity.setKeyEntry("node", key, IN_MEMORY_PASSWORD, chain.toArray(Certificate[]::new));
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(identity, IN_MEMORY_PASSWORD);

        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        List<Certificate> authorities = certificates(caBundle);
        for (int i = 0; i < authorities.size(); i++) {
            trusted.setCertificateEntry("ca-" + i, authorities.get(i));
        }
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(trusted);

        SSLContext context = SSLContext.getInstance("TLSv1.3");
        context.init(keys.getKeyManagers(), trust.getTrustManagers(), null);
        return context;
    }

    private static List<Certificate> certificates(Path pem) throws IOException, GeneralSecurityException {
        Collection<? extends Certificate> certificates;
        try (InputStream in = Files.newInputStream(pem)) {
            certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
        }
        if (certificates.isEmpty()) {
            throw new GeneralSecurityException(pem + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        }
        return List.copyOf(certificates);
    }

    private static PrivateKey privateKey(Path pem) throws IOException, GeneralSecurityException {
        String text = Files.readString(pem);
        Matcher block = PRIVATE_KEY.matcher(text);
        if (!block.find()) {
            throw new GeneralSecurityException(pem + " holds no unencrypted PKCS#8 key (-----BEGIN PRIVATE KEY-----);"
                    + " convert it with: openssl pkcs8 -topk8 -nocrypt -in <key> -out <key.pkcs8>");
        }
        byte[] der = Base64.getMimeDecoder().decode(block.group(1));
        for (String algorithm : KEY_ALGORITHMS) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (InvalidKeySpecException e) {
                // Not this algorithm; PKCS#8 names it inside, but trying is simpler than parsing DER.
            }
        }
        throw new GeneralSecurityException(pem + " holds a private key that is neither " + KEY_ALGORITHMS);
    }
}
