package io.kubevmm.node.engine.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kubevmm.node.engine.Accelerator;
import io.kubevmm.node.qmp.QemuVersion;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link QemuFeatures} on the replies Debian's QEMU 7.2 and bookworm-backports' 10.0 give (recorded). */
class QemuFeaturesTest {

    /** query-version, query-migrate-capabilities and query-migrate-parameters as one QEMU answered them. */
    static QemuFeatures recorded(String version) {
        try (InputStream in = QemuFeaturesTest.class.getResourceAsStream("/qmp/qemu-" + version + "-features.json")) {
            JsonNode replies = new ObjectMapper().readTree(in);
            return QemuFeatures.fromReplies(replies.get("query-version"), replies.get("query-migrate-capabilities"),
                    replies.get("query-migrate-parameters"), replies.get("query-commands"));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void qemu72IsKnownByItsRepliesAndLosesTcgWritesDuringMigration() {
        QemuFeatures qemu = recorded("7.2.22");

        assertThat(qemu.version()).isEqualTo(new QemuVersion(7, 2, 22));
        assertThat(qemu.build()).contains("7.2");
        assertThat(qemu.losesTcgWritesDuringMigration(Accelerator.TCG)).isTrue();
        assertThat(qemu.losesTcgWritesDuringMigration(Accelerator.KVM)).isFalse();
        assertThat(qemu.hasRunWith()).isFalse();
        assertThat(qemu.supports("mapped-ram")).isFalse();
        assertThat(qemu.supports("postcopy-preempt")).as("7.2 lists it").isTrue();
        assertThat(qemu.hasPostcopyPreempt()).as("but sets its channel up the pre-8.0 way: not used").isFalse();
        assertThat(qemu.capabilitiesInUse()).containsExactly("events", "postcopy-ram", "auto-converge", "background-snapshot", "multifd");
    }

    @Test
    void qemu10NeedsNoRamWorkaroundAndKnowsWhatItAdded() {
        QemuFeatures qemu = recorded("10.0.2");

        assertThat(qemu.version()).isEqualTo(new QemuVersion(10, 0, 2));
        assertThat(qemu.losesTcgWritesDuringMigration(Accelerator.TCG)).isFalse();
        assertThat(qemu.hasRunWith()).isTrue();
        assertThat(qemu.supports("mapped-ram")).isTrue();
        assertThat(qemu.supports("postcopy-preempt")).isTrue();
        assertThat(qemu.migrationParameters()).contains("multifd-channels", "downtime-limit");
        assertThat(qemu.hasPostcopyPreempt()).isTrue();
        assertThat(qemu.hasAnnounceSelf()).isTrue();
        assertThat(qemu.capabilitiesInUse()).containsExactly("events", "postcopy-ram", "postcopy-preempt", "auto-converge",
                "background-snapshot", "multifd");
    }

    @Test
    void aCapabilityTheQemuDoesNotListIsNotInUse() {
        QemuFeatures bare = QemuFeatures.ofVersion(new QemuVersion(10, 0, 2));

        assertThat(bare.supports("events")).isFalse();
        assertThat(bare.capabilitiesInUse()).isEmpty();
        assertThat(bare.hasAnnounceSelf()).as("a QEMU that did not list announce-self is not asked to").isFalse();
    }
}
