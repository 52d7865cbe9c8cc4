package io.kubevmm.operator.network;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Set;

/**
 * MAC addresses for overlay NICs: locally administered unicast (first octet 0x02: bit 1 set, bit
 * 0 clear), so they never collide with a vendor's. The other five octets come from a hash of the
 * VM's uid and an attempt number: the same VM gets the same candidate first, and a collision in
 * the network (one in 2^40 per pair) moves to the next attempt. Pure.
 */
public final class MacAddresses {
    private static final int MAX_ATTEMPTS = 1000;

    private MacAddresses() { }

    /** The first candidate for {@code vmUid} that no address in {@code taken} (lowercase) uses. */
    public static String pick(String vmUid, Set<String> taken) {
        for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            String mac = candidate(vmUid, attempt);
            if (!taken.contains(mac)) {
                return mac;
            }
        }
        throw new IllegalStateException("no free MAC address after " + MAX_ATTEMPTS + " attempts for uid " + vmUid);
    }

    static String candidate(String vmUid, int attempt) {
        byte[] hash;
        try {
            hash = MessageDigest.getInstance("SHA-256").digest((vmUid + "/" + attempt).getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
        byte[] mac = new byte[6];
        mac[0] = 0x02;
        System.arraycopy(hash, 0, mac, 1, 5);
        return HexFormat.ofDelimiter(":").formatHex(mac);
    }

    /** Whether {@code mac} is a lowercase, colon-separated, locally administered unicast address. */
    public static boolean locallyAdministeredUnicast(String mac) {
        if (mac == null || !mac.matches("[0-9a-f]{2}(:[0-9a-f]{2}){5}")) {
            return false;
        }
        int first = Integer.parseInt(mac.substring(0, 2), 16);
        return (first & 0x02) != 0 && (first & 0x01) == 0;
    }
}
