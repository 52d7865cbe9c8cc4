package io.kubevmm.node.engine.qemu;

import io.kubevmm.node.qmp.QemuVersion;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class QemuProbeTest {

    @Test
    void theInstalledQemuSaysOverQmpWhatItsVersionLinePrints() {
        QemuFeatures features = QemuProbe.reprobe("qemu-system-x86_64");

        assertThat(features.version()).isEqualTo(QemuProbe.versionOf("qemu-system-x86_64"));
        assertThat(features.supports("events")).isTrue();
        assertThat(features.capabilitiesInUse()).contains("events", "postcopy-ram", "background-snapshot");
        assertThat(QemuProbe.features("qemu-system-x86_64")).isSameAs(QemuProbe.features("qemu-system-x86_64"));
    }

    @Test
    void versionLinesOfBothReleasesParse() {
        assertThat(QemuProbe.parseVersion("QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-2+deb13u1~bpo12+1)"))
                .contains(new QemuVersion(10, 0, 2));
        assertThat(QemuProbe.parseVersion("QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)"))
                .contains(new QemuVersion(7, 2, 22));
        assertThat(QemuProbe.parseVersion("QEMU emulator version 9.1")).contains(new QemuVersion(9, 1, 0));
        assertThat(QemuProbe.parseVersion("command not found")).isEqualTo(Optional.empty());
    }

    @Test
    void aBinaryThatIsNoQemuIsRefusedWithItsName() {
        assertThatThrownBy(() -> QemuProbe.reprobe("/nonexistent/qemu")).hasMessageContaining("/nonexistent/qemu");
    }
}
