package io.kubevmm.node.transfer.tunnel;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;

/** A throwaway CA and the node certificates it signs, made with the openssl command line as an operator would. */
final class TestCertificates {
    private static final Path OPENSSL = Path.of("/usr/bin/openssl");

    private final Path dir;
    private final String ca;

    private TestCertificates(Path dir, String ca) {
        this.dir = dir;
        this.ca = ca;
    }

    /** A new self-signed CA named {@code ca} in {@code dir}; skips the test where openssl is missing. */
    static TestCertificates authority(Path dir, String ca) throws Exception {
        assumeTrue(Files.isExecutable(OPENSSL), "openssl is not installed at " + OPENSSL);
        openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", ca + ".key", "-out", ca + ".pem", "-days", "1", "-subj", "/CN=" + ca,
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        return new TestCertificates(dir, ca);
    }

    /** An SSLContext for {@code node}, its certificate signed by this CA, trusting {@code trusted}. */
    SSLContext node(String node, String keyAlgorithm, TestCertificates trusted) throws Exception {
        List<String> newKey = new ArrayList<>(List.of("req", "-newkey", keyAlgorithm));
        if (keyAlgorithm.equals("ec")) {
            newKey.addAll(List.of("-pkeyopt", "ec_paramgen_curve:prime256v1"));
        }
        newKey.addAll(List.of("-nodes", "-keyout", node + ".key", "-out", node + ".csr", "-subj", "/CN=" + node));
        openssl(dir, newKey.toArray(String[]::new));
        openssl(dir, "x509", "-req", "-in", node + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
                "-CAcreateserial", "-out", node + ".pem", "-days", "1");
        return TunnelTls.fromPem(dir.resolve(node + ".pem"), dir.resolve(node + ".key"), trusted.dir.resolve(trusted.ca + ".pem"));
    }

    private static void openssl(Path dir, String... arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(OPENSSL.toString()));
        command.addAll(List.of(arguments));
        Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IllegalStateException("openssl " + String.join(" ", arguments) + " failed:\n" + output);
        }
    }
}
