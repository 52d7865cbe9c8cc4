package io.kubevmm.operator.migration;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CompletionTimeoutTest {
    static final long GIB = 1L << 30;
    final CompletionTimeout defaults = new CompletionTimeout(Duration.ofSeconds(150), Duration.ofSeconds(60));

    @Test
    void theSpecsValueWins() {
        assertThat(defaults.seconds(20L, 8 * GIB)).isEqualTo(20);
    }

    @Test
    void unsetItScalesWithMemoryAt150sPerGiB() {
        assertThat(defaults.seconds(null, 2 * GIB)).isEqualTo(300);
        assertThat(defaults.seconds(null, 3 * GIB / 2)).isEqualTo(225);
    }

    @Test
    void smallGuestsGetTheFloor() {
        assertThat(defaults.seconds(null, 256L << 20)).isEqualTo(60);
        assertThat(defaults.seconds(null, 0)).isEqualTo(60);
    }

    @Test
    void badSettingsAreRefusedNamingTheProperty() {
        assertThatThrownBy(() -> new CompletionTimeout(Duration.ZERO, Duration.ZERO))
                .hasMessageContaining("kubevmm.operator.migration.completion-timeout-per-gib");
        assertThatThrownBy(() -> new CompletionTimeout(Duration.ofSeconds(-1), Duration.ofSeconds(60)))
                .hasMessageContaining("negative");
    }
}
