package io.kubevmm.node.files;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 as the snapshot manifests write it: lowercase hex. */
public final class Sha256 {
    private Sha256() { }

    /** A fresh digest, for data that arrives in pieces. */
    public static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }

    /** The hex form of what {@code digest} has seen; the digest is reset. */
    public static String hex(MessageDigest digest) {
        return HexFormat.of().formatHex(digest.digest());
    }

    /** The hex SHA-256 of a whole file. */
    public static String of(Path file) throws IOException {
        MessageDigest sha = digest();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) {
                sha.update(buf, 0, n);
            }
        }
        return hex(sha);
    }

    /** The raw SHA-256 of {@code bytes}. */
    public static byte[] of(byte[] bytes) {
        return digest().digest(bytes);
    }
}
