package io.kubevmm.node.qmp;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class QemuVersionTest {

    @Test
    void printsLikeQemuDoes() {
        assertThat(new QemuVersion(7, 2, 22)).hasToString("7.2.22");
    }

    @Test
    void isAtLeastComparesMajorThenMinorAndIgnoresMicro() {
        QemuVersion v = new QemuVersion(7, 2, 22);
        assertThat(v.isAtLeast(7, 2)).isTrue();
        assertThat(v.isAtLeast(7, 1)).isTrue();
        assertThat(v.isAtLeast(6, 9)).isTrue();
        assertThat(v.isAtLeast(7, 3)).isFalse();
        assertThat(v.isAtLeast(8, 0)).isFalse();
    }

    @Test
    void releasesSortByMajorMinorMicro() {
        List<QemuVersion> versions = new ArrayList<>(List.of(
                new QemuVersion(8, 0, 0), new QemuVersion(7, 2, 22), new QemuVersion(7, 10, 0), new QemuVersion(7, 2, 3)));
        Collections.sort(versions);
        assertThat(versions).extracting(QemuVersion::toString).containsExactly("7.2.3", "7.2.22", "7.10.0", "8.0.0");
    }
}
