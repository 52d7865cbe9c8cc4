package io.kubevmm.node.transfer.tunnel;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.SSLSocket;

/**
 * The challenge-response that opens every tunnel connection. The target greets with a fresh
 * nonce ({@code KUBEVMM-TUNNEL 1 <nonce>}); the source answers
 * {@code <migrationId> <channel> <proof>} where proof = HMAC-SHA256(secret,
 * nonce + "\n" + migrationId + "\n" + channel), so the secret never crosses the wire and a
 * recorded answer is useless for another connection; the target replies {@code OK} or
 * {@code DENIED <reason>}. Lines are ASCII, end in "\n" and are read one byte at a time so that
 * nothing after the handshake is consumed: those bytes belong to QEMU's stream.
 */
final class TunnelHandshake {
    static final Duration TIMEOUT = Duration.ofSeconds(5);
    static final int MAX_LINE_BYTES = 512;
    private static final String GREETING = "KUBEVMM-TUNNEL 1 ";
    private static final String ACCEPTED = "OK";
    private static final String DENIED = "DENIED ";
    private static final int DENIAL_LINGER_MILLIS = 1000;
    private static final int MAX_DISCARDED_BYTES = 64 * 1024;
    private static final Pattern NAME = Pattern.compile("[\\x21-\\x7e]{1,200}");
    /** Base64url of the 32-byte HMAC, unpadded. */
    private static final Pattern PROOF = Pattern.compile("[A-Za-z0-9_-]{43}");
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Base64.Encoder BASE64 = Base64.getUrlEncoder().withoutPadding();

    /** What a source claims in its answer to the greeting. */
    record Answer(String migrationId, String channel, String proof) { }

    private TunnelHandshake() { }

    /** Rejects ids that would break the line format (spaces, control characters, empty). */
    static String requireName(String what, String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(what + " \"" + name + "\" must be 1-200 printable ASCII characters without spaces");
        }
        return name;
    }

    // Target side.

    /** Completes TLS if any and sends the greeting; returns the nonce the answer must prove. */
    static String greet(Socket socket, long deadline) throws IOException {
        startTls(socket, deadline);
        byte[] nonce = new byte[32];
        RANDOM.nextBytes(nonce);
        String encoded = BASE64.encodeToString(nonce);
        writeLine(socket, GREETING + encoded);
        return encoded;
    }

    static Answer readAnswer(Socket socket, long deadline) throws IOException {
        String[] words = readLine(socket, deadline).split(" ", -1);
        if (words.length != 3 || !NAME.matcher(words[0]).matches() || !NAME.matcher(words[1]).matches()
                || !PROOF.matcher(words[2]).matches()) {
            throw new TunnelRefusedException("malformed answer (expected: <migrationId> <channel> <proof>)");
        }
        return new Answer(words[0], words[1], words[2]);
    }

    /** Whether the answer was computed with {@code secret}, compared in constant time. */
    static boolean proves(byte[] secret, String nonce, Answer answer) {
        byte[] expected = proof(secret, nonce, answer.migrationId(), answer.channel()).getBytes(StandardCharsets.US_ASCII);
        return MessageDigest.isEqual(expected, answer.proof().getBytes(StandardCharsets.US_ASCII));
    }

    /** Says OK; from here on the connection carries QEMU's bytes, with no read timeout. */
    static void accept(Socket socket) throws IOException {
        writeLine(socket, ACCEPTED);
        socket.setSoTimeout(0);
    }

    /**
     * Tells the source why, if the connection still carries words, then reads and drops what it
     * sent meanwhile (for a moment, up to a limit) before the caller closes: closing with unread
     * bytes would reset the connection and could destroy the reason before the source reads it.
     */
    static void denyQuietly(Socket socket, String reason) {
        try {
            writeLine(socket, DENIED + reason);
            socket.shutdownOutput();
            socket.setSoTimeout(DENIAL_LINGER_MILLIS);
            byte[] discarded = new byte[4096];
            int total = 0;
            int n;
            while (total < MAX_DISCARDED_BYTES && (n = socket.getInputStream().read(discarded)) >= 0) {
                total += n;
            }
        } catch (IOException | RuntimeException e) {
            // The source hung up, went quiet, or TLS never came up: nobody is left to tell.
        }
    }

    // Source side.

    /** Answers the target's greeting; returns once the target said OK, throws with its reason otherwise. */
    static void authenticate(Socket socket, String migrationId, String channel, byte[] secret, long deadline)
            throws IOException {
        startTls(socket, deadline);
        String greeting = readLine(socket, deadline);
        if (!greeting.startsWith(GREETING)) {
            throw new TunnelRefusedException("target does not speak the tunnel protocol, it greeted: " + abbreviate(greeting));
        }
        String nonce = greeting.substring(GREETING.length());
        writeLine(socket, migrationId + " " + channel + " " + proof(secret, nonce, migrationId, channel));
        String reply = readLine(socket, deadline);
        if (reply.startsWith(DENIED)) {
            throw new TunnelRefusedException(reply.substring(DENIED.length()));
        }
        if (!reply.equals(ACCEPTED)) {
            throw new TunnelRefusedException("unexpected reply: " + abbreviate(reply));
        }
        socket.setSoTimeout(0);
    }

    static String proof(byte[] secret, String nonce, String migrationId, String channel) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            byte[] message = (nonce + "\n" + migrationId + "\n" + channel).getBytes(StandardCharsets.US_ASCII);
            return BASE64.encodeToString(mac.doFinal(message));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    private static void startTls(Socket socket, long deadline) throws IOException {
        if (socket instanceof SSLSocket tls) {
            socket.setSoTimeout(millisUntil(deadline));
            tls.startHandshake();
        }
    }

    private static String readLine(Socket socket, long deadline) throws IOException {
        InputStream in = socket.getInputStream();
        byte[] line = new byte[MAX_LINE_BYTES];
        int length = 0;
        while (true) {
            socket.setSoTimeout(millisUntil(deadline));
            int b = in.read();
            if (b < 0) {
                throw new EOFException("connection closed during the handshake");
            }
            if (b == '\n') {
                return new String(line, 0, length, StandardCharsets.US_ASCII);
            }
            if (length == MAX_LINE_BYTES) {
                throw new TunnelRefusedException("handshake line longer than " + MAX_LINE_BYTES + " bytes");
            }
            line[length++] = (byte) b;
        }
    }

    private static void writeLine(Socket socket, String line) throws IOException {
        socket.getOutputStream().write((line + "\n").getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
    }

    private static int millisUntil(long deadline) throws SocketTimeoutException {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) {
            throw new SocketTimeoutException("handshake deadline passed");
        }
        return (int) Math.min(left, Integer.MAX_VALUE);
    }

    private static String abbreviate(String text) {
        return text.length() <= 60 ? text : text.substring(0, 60) + "...";
    }
}
