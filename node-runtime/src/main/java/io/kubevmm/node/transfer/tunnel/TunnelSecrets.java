package io.kubevmm.node.transfer.tunnel;

import java.security.SecureRandom;
import java.util.Base64;

/**
 * The per-migration secret both node runtimes share (handed to them by the operator) and with
 * which the source proves it may feed the target's QEMU. It never crosses the tunnel itself.
 */
public final class TunnelSecrets {
    /** 256 bits: as long as the HMAC-SHA256 key it becomes. */
    public static final int LENGTH_BYTES = 32;
    private static final SecureRandom RANDOM = new SecureRandom();

    private TunnelSecrets() { }

    /** A fresh secret for one migration. */
    public static byte[] generate() {
        byte[] secret = new byte[LENGTH_BYTES];
        RANDOM.nextBytes(secret);
        return secret;
    }

    /** URL-safe base64 without padding, so it fits labels, env variables and Secret data alike. */
    public static String encode(byte[] secret) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
    }

    /** The inverse of {@link #encode}; accepts padded input too. */
    public static byte[] decode(String encoded) {
        return Base64.getUrlDecoder().decode(encoded.trim());
    }
}
