package io.kubevmm.node.transfer.tunnel;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import org.junit.jupiter.api.Test;

/** The proof binds one answer to one greeting, one migration and one channel, and hides the secret. */
class TunnelHandshakeTest {
    private final byte[] secret = TunnelSecrets.generate();

    @Test
    void proofDiffersForEveryNonceMigrationChannelAndSecret() {
        Set<String> proofs = Set.of(
                TunnelHandshake.proof(secret, "nonce-1", "mig-1", "migration"),
                TunnelHandshake.proof(secret, "nonce-2", "mig-1", "migration"),
                TunnelHandshake.proof(secret, "nonce-1", "mig-2", "migration"),
                TunnelHandshake.proof(secret, "nonce-1", "mig-1", "nbd"),
                TunnelHandshake.proof(TunnelSecrets.generate(), "nonce-1", "mig-1", "migration"));

        assertThat(proofs).hasSize(5);
    }

    @Test
    void proofDoesNotCarryTheSecret() {
        String proof = TunnelHandshake.proof(secret, "nonce-1", "mig-1", "migration");

        assertThat(proof).doesNotContain(TunnelSecrets.encode(secret)).matches("[A-Za-z0-9_-]{43}");
    }

    @Test
    void targetAcceptsOnlyTheProofItsNonceAsksFor() {
        String proof = TunnelHandshake.proof(secret, "nonce-1", "mig-1", "migration");

        assertThat(TunnelHandshake.proves(secret, "nonce-1", new TunnelHandshake.Answer("mig-1", "migration", proof))).isTrue();
        assertThat(TunnelHandshake.proves(secret, "nonce-2", new TunnelHandshake.Answer("mig-1", "migration", proof))).isFalse();
        assertThat(TunnelHandshake.proves(secret, "nonce-1", new TunnelHandshake.Answer("mig-1", "nbd", proof))).isFalse();
    }
}
