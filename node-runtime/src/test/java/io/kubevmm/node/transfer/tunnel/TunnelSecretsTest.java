package io.kubevmm.node.transfer.tunnel;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TunnelSecretsTest {

    @Test
    void everyMigrationGetsItsOwn256BitSecret() {
        byte[] first = TunnelSecrets.generate();

        assertThat(first).hasSize(32);
        assertThat(TunnelSecrets.generate()).isNotEqualTo(first);
    }

    @Test
    void encodedSecretIsUrlSafeAndDecodesBack() {
        byte[] secret = TunnelSecrets.generate();

        String encoded = TunnelSecrets.encode(secret);

        assertThat(encoded).matches("[A-Za-z0-9_-]{43}");
        assertThat(TunnelSecrets.decode(encoded)).isEqualTo(secret);
    }
}
