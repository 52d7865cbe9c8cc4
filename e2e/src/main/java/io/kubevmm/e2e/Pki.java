package io.kubevmm.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * The local control plane's key material, made with the openssl command line once per cluster
 * home and kept with its data: a CA, the API server's serving certificate, client certificates
 * (the admin in group {@code system:masters}, the controller manager) and the ServiceAccount
 * token signing key pair.
 */
final class Pki {
    private static final int DAYS = 3650;
    private final Path dir;

    Pki(Path dir) {
        this.dir = dir;
    }

    Path caCert() { return dir.resolve("ca.crt"); }
    Path caKey() { return dir.resolve("ca.key"); }
    Path cert(String name) { return dir.resolve(name + ".crt"); }
    Path key(String name) { return dir.resolve(name + ".key"); }
    Path serviceAccountKey() { return dir.resolve("sa.key"); }
    Path serviceAccountPublicKey() { return dir.resolve("sa.pub"); }

    /**
     * Makes whatever is missing (nothing on a warm start). The API server's certificate names
     * loopback and {@code apiServerAddress}; one made for another address is made again.
     */
    void ensure(String apiServerAddress) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        if (!Files.exists(caCert())) {
            openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", caKey().toString(), "-out", caCert().toString(),
                    "-days", Integer.toString(DAYS), "-subj", "/CN=kubevmm-local-ca");
        }
        String names = "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:127.0.0.1,IP:10.0.0.1"
                + ("127.0.0.1".equals(apiServerAddress) ? "" : ",IP:" + apiServerAddress);
        Path named = dir.resolve("apiserver.names");
        if (!Files.exists(cert("apiserver")) || !Files.exists(named) || !Files.readString(named).equals(names)) {
            leaf("apiserver", "/CN=kube-apiserver", "serverAuth", names);
            Files.writeString(named, names);
        }
        if (!Files.exists(cert("admin"))) {
            leaf("admin", "/O=system:masters/CN=kubevmm-admin", "clientAuth", null);
        }
        if (!Files.exists(cert("controller-manager"))) {
            leaf("controller-manager", "/CN=system:kube-controller-manager", "clientAuth", null);
        }
        if (!Files.exists(serviceAccountKey())) {
            openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", serviceAccountKey().toString());
            openssl("pkey", "-in", serviceAccountKey().toString(), "-pubout", "-out", serviceAccountPublicKey().toString());
        }
    }

    private void leaf(String name, String subject, String usage, String subjectAltNames) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("req", "-x509", "-newkey", "rsa:2048", "-nodes",
                "-keyout", key(name).toString(), "-out", cert(name).toString(), "-days", Integer.toString(DAYS),
                "-CA", caCert().toString(), "-CAkey", caKey().toString(), "-subj", subject,
                "-addext", "basicConstraints=critical,CA:FALSE",
                "-addext", "keyUsage=critical,digitalSignature,keyEncipherment",
                "-addext", "extendedKeyUsage=" + usage));
        if (subjectAltNames != null) {
            args.addAll(List.of("-addext", "subjectAltName=" + subjectAltNames));
        }
        openssl(args.toArray(String[]::new));
    }

    private void openssl(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process process;
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IllegalStateException("the local cluster makes its certificates with openssl, which is not installed"
                    + " (apt-get install openssl)", e);
        }
        String output = new String(process.getInputStream().readAllBytes());
        if (process.waitFor() != 0) {
            throw new IllegalStateException("openssl " + String.join(" ", args) + " failed:\n" + output);
        }
    }
}
