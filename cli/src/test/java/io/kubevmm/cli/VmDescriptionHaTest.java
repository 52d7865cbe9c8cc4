package io.kubevmm.cli;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The HA line of {@code describe vm}: the mode, and whether the VM gives up its disks to restart elsewhere. */
class VmDescriptionHaTest {

    @Test
    void theModeDefaultsToNone() {
        assertThat(VmDescription.highAvailability(Map.of("spec", Map.of()))).isEqualTo("None (default)");
    }

    @Test
    void aRestartVmThatGaveUpItsDisksSaysSo() {
        assertThat(VmDescription.highAvailability(Map.of("spec", Map.of("highAvailability",
                Map.of("mode", "Restart", "restartWithLocalDiskLoss", true)))))
                .isEqualTo("Restart, restarts elsewhere with fresh disks");
        assertThat(VmDescription.highAvailability(Map.of("spec", Map.of("highAvailability", Map.of("mode", "Restart")))))
                .isEqualTo("Restart");
    }
}
