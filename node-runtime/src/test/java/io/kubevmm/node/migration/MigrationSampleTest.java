package io.kubevmm.node.migration;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link MigrationSample#fromQueryMigrate} on replies recorded from QEMU 7.2 by {@link TraceRecorder}. */
class MigrationSampleTest {

    @Test
    void activePreCopyReplyBecomesBytesAndMillis() {
        // dirty-postcopy, second pass: dirty-pages-rate 9865 pages/s of 4096 bytes, mbps 537.14744
        JsonNode reply = RecordedTrace.rawReplies("dirty-postcopy").get("active");

        MigrationSample sample = MigrationSample.fromQueryMigrate(reply, 3502);

        assertThat(sample).isEqualTo(new MigrationSample(3502, "active", 2, 268_521_472, 219_836_300,
                120_483_840, 9865L * 4096, 67_143_430, 0, 2097));
        assertThat(sample.inPostCopy()).isFalse();
    }

    @Test
    void autoConvergeReplyCarriesTheThrottle() {
        JsonNode reply = RecordedTrace.rawReplies("dirty-autoconverge").get("active");

        MigrationSample sample = MigrationSample.fromQueryMigrate(reply, 43_011);

        assertThat(sample.throttlePercent()).isEqualTo(99);
        assertThat(sample.iterations()).isEqualTo(23);
        assertThat(sample.expectedDowntimeMillis()).isEqualTo(356);
        assertThat(sample.dirtyRateBytesPerSecond()).isEqualTo(2087L * 4096);
    }

    @Test
    void postCopyReplyIsRecognisedAsPostCopy() {
        JsonNode reply = RecordedTrace.rawReplies("dirty-postcopy").get("postcopy-active");

        MigrationSample sample = MigrationSample.fromQueryMigrate(reply, 4094);

        assertThat(sample.status()).isEqualTo("postcopy-active");
        assertThat(sample.inPostCopy()).isTrue();
        assertThat(sample.remainingBytes()).isZero();
        assertThat(sample.transferredBytes()).isEqualTo(354_898_976);
    }

    @Test
    void completedReplyHasNoExpectedDowntime() {
        JsonNode reply = RecordedTrace.rawReplies("idle-precopy").get("completed");

        MigrationSample sample = MigrationSample.fromQueryMigrate(reply, 1502);

        assertThat(sample.status()).isEqualTo("completed");
        assertThat(sample.expectedDowntimeMillis()).isZero();
        assertThat(sample.remainingBytes()).isZero();
        assertThat(sample.iterations()).isEqualTo(3);
    }

    @Test
    void repliesWithoutRamCountersReadAsZeros() {
        for (String status : new String[] {"setup", "cancelled"}) {
            JsonNode reply = RecordedTrace.rawReplies("dirty-precopy").get(status);

            assertThat(MigrationSample.fromQueryMigrate(reply, 600))
                    .isEqualTo(new MigrationSample(600, status, 0, 0, 0, 0, 0, 0, 0, 0));
        }
    }
}
