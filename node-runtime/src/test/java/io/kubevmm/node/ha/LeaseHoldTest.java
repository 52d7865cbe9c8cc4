package io.kubevmm.node.ha;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** When a node may still run guests another node may restart, by the fencing deadlines of docs/ha.md. */
class LeaseHoldTest {
    static final Instant T0 = Instant.parse("2026-12-07T10:00:00Z");
    static final Duration FENCE_AFTER = Duration.ofSeconds(10);

    @TempDir
    Path stateDir;

    @Test
    void guestsMayRunUntilFenceAfterHasPassedSinceTheRenewTimeWritten() {
        FenceRule rule = new FenceRule(T0, false, FENCE_AFTER);
        assertThat(rule.mayRun(T0.plusSeconds(9).plusMillis(999))).isTrue();
        assertThat(rule.mayRun(T0.plusSeconds(10))).as("at the deadline they must be down").isFalse();
        assertThat(rule.fenceAt()).isEqualTo(T0.plusSeconds(10));
        assertThat(rule.why(T0.plusSeconds(12))).contains("12 s ago").contains("fence-after 10 s");
    }

    @Test
    void theOperatorsFenceMarkStopsGuestsWhateverTheClockSays() {
        FenceRule rule = new FenceRule(T0, true, FENCE_AFTER);
        assertThat(rule.mayRun(T0)).isFalse();
        assertThat(rule.why(T0)).contains("declared this node lost");
    }

    @Test
    void withoutAnyKnownRenewalNothingMayRun() {
        assertThat(new FenceRule(null, false, FENCE_AFTER).mayRun(T0)).isFalse();
    }

    @Test
    void aRenewalWritesTheHeartbeatFileTheGuardWatchesWithTheRenewTimeAsItsAge() throws Exception {
        LeaseHold hold = new LeaseHold(stateDir, FENCE_AFTER, Duration.ofSeconds(15), Clock.fixed(T0.plusSeconds(5), ZoneOffset.UTC));
        assertThat(hold.mayRunFencedGuests()).isFalse();
        hold.renewed(T0, false);
        assertThat(hold.mayRunFencedGuests()).isTrue();
        Path heartbeat = stateDir.resolve(LeaseHold.HEARTBEAT_FILE);
        assertThat(Files.getLastModifiedTime(heartbeat).toInstant()).isEqualTo(T0);
        assertThat(Files.readString(heartbeat).strip()).isEqualTo(Long.toString(T0.getEpochSecond()));
    }

    @Test
    void aRestartedRuntimeCountsFromTheLastRenewalAnEarlierOneMade() {
        new LeaseHold(stateDir, FENCE_AFTER, Duration.ofSeconds(15), Clock.systemUTC()).renewed(T0, false);
        LeaseHold soonAfter = new LeaseHold(stateDir, FENCE_AFTER, Duration.ofSeconds(15), Clock.fixed(T0.plusSeconds(3), ZoneOffset.UTC));
        LeaseHold tooLate = new LeaseHold(stateDir, FENCE_AFTER, Duration.ofSeconds(15), Clock.fixed(T0.plusSeconds(11), ZoneOffset.UTC));
        assertThat(soonAfter.mayRunFencedGuests()).isTrue();
        assertThat(tooLate.mayRunFencedGuests()).isFalse();
    }

    @Test
    void fenceAfterMustBeShorterThanTheLease() {
        assertThatThrownBy(() -> new LeaseHold(stateDir, Duration.ofSeconds(15), Duration.ofSeconds(15), Clock.systemUTC()))
                .hasMessageContaining("kubevmm.node.fence-after").hasMessageContaining("must be shorter than");
    }
}
