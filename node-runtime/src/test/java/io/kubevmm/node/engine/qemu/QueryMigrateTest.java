package io.kubevmm.node.engine.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kubevmm.node.engine.MigrationSample;
import io.kubevmm.node.engine.MigrationStatus;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link QueryMigrate} on replies recorded from QEMU 7.2 by the migration tests' {@code TraceRecorder}. */
class QueryMigrateTest {

    @Test
    void activePreCopyReplyBecomesBytesAndMillis() {
        // dirty-postcopy, second pass: dirty-pages-rate 9865 pages/s of 4096 bytes, mbps 537.14744
        JsonNode reply = rawReplies("dirty-postcopy").get("active");

        MigrationSample sample = QueryMigrate.sample(reply, 3502);

        assertThat(sample).isEqualTo(new MigrationSample(3502, MigrationStatus.ACTIVE, 2, 268_521_472, 219_836_300,
                120_483_840, 9865L * 4096, 67_143_430, 0, 2097));
        assertThat(sample.inPostCopy()).isFalse();
    }

    @Test
    void autoConvergeReplyCarriesTheThrottle() {
        JsonNode reply = rawReplies("dirty-autoconverge").get("active");

        MigrationSample sample = QueryMigrate.sample(reply, 43_011);

        assertThat(sample.throttlePercent()).isEqualTo(99);
        assertThat(sample.iterations()).isEqualTo(23);
        assertThat(sample.expectedDowntimeMillis()).isEqualTo(356);
        assertThat(sample.dirtyRateBytesPerSecond()).isEqualTo(2087L * 4096);
    }

    @Test
    void postCopyReplyIsRecognisedAsPostCopy() {
        JsonNode reply = rawReplies("dirty-postcopy").get("postcopy-active");

        MigrationSample sample = QueryMigrate.sample(reply, 4094);

        assertThat(sample.status()).isEqualTo(MigrationStatus.POSTCOPY);
        assertThat(sample.inPostCopy()).isTrue();
        assertThat(sample.remainingBytes()).isZero();
        assertThat(sample.transferredBytes()).isEqualTo(354_898_976);
    }

    @Test
    void completedReplyHasNoExpectedDowntime() {
        JsonNode reply = rawReplies("idle-precopy").get("completed");

        MigrationSample sample = QueryMigrate.sample(reply, 1502);

        assertThat(sample.status()).isEqualTo(MigrationStatus.COMPLETED);
        assertThat(sample.expectedDowntimeMillis()).isZero();
        assertThat(sample.remainingBytes()).isZero();
        assertThat(sample.iterations()).isEqualTo(3);
    }

    @Test
    void repliesWithoutRamCountersReadAsZeros() {
        for (String status : new String[] {"setup", "cancelled"}) {
            JsonNode reply = rawReplies("dirty-precopy").get(status);

            assertThat(QueryMigrate.sample(reply, 600))
                    .isEqualTo(new MigrationSample(600, QueryMigrate.status(status), 0, 0, 0, 0, 0, 0, 0, 0));
        }
    }

    @Test
    void qemuStatesMapOntoTheNeutralOnes() {
        assertThat(QueryMigrate.status("setup")).isEqualTo(MigrationStatus.SETUP);
        assertThat(QueryMigrate.status("device")).isEqualTo(MigrationStatus.SWITCHING_OVER);
        assertThat(QueryMigrate.status("pre-switchover")).isEqualTo(MigrationStatus.SWITCHING_OVER);
        assertThat(QueryMigrate.status("postcopy-paused")).isEqualTo(MigrationStatus.POSTCOPY);
        assertThat(QueryMigrate.status("cancelling")).isEqualTo(MigrationStatus.CANCELLING);
        assertThat(QueryMigrate.status("colo")).isEqualTo(MigrationStatus.UNKNOWN);
        assertThat(QueryMigrate.status(new ObjectMapper().createObjectNode())).isEqualTo(MigrationStatus.NONE);
    }

    /** The raw {@code query-migrate} replies of a recorded trace, by status. */
    private static JsonNode rawReplies(String name) {
        try (var in = QueryMigrateTest.class.getResourceAsStream("/migration-traces/" + name + ".query-migrate.json")) {
            return new ObjectMapper().readTree(in);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
