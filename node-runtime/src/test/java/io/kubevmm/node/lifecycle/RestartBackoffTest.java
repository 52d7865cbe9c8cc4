package io.kubevmm.node.lifecycle;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class RestartBackoffTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void backoffDoublesFromItsFirstDelayAndStopsAtItsCap() {
        Backoff b = new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(60));
        List<Long> seconds = new ArrayList<>();
        for (int attempt = 0; attempt <= 8; attempt++) {
            seconds.add(b.delay(attempt).toSeconds());
        }
        assertThat(seconds).containsExactly(0L, 2L, 4L, 8L, 16L, 32L, 60L, 60L, 60L);
        assertThat(b.delay(Integer.MAX_VALUE)).isEqualTo(Duration.ofSeconds(60));
    }

    @Test
    void theFirstRestartComesAtOnceAndEachFurtherOneInARowWaitsTwiceAsLongUpToFiveMinutes() {
        RestartBackoff backoff = new RestartBackoff();
        List<Long> waits = new ArrayList<>();
        Instant now = T0;
        for (int i = 0; i < 9; i++) {
            Instant bootedAt = now;
            now = now.plusSeconds(3); // crashes 3 s after each boot
            Instant next = backoff.wentDown(bootedAt, now);
            waits.add(Duration.between(now, next).toSeconds());
            if (backoff.holding(now) != null) {
                assertThat(backoff.holding(next)).as("may restart once the wait is over").isNull();
            }
            now = next;
            backoff.restarted();
        }
        assertThat(waits).containsExactly(0L, 10L, 20L, 40L, 80L, 160L, 300L, 300L, 300L);
    }

    @Test
    void aGuestThatStayedUpTenMinutesStartsItsCountAgain() {
        RestartBackoff backoff = new RestartBackoff();
        backoff.wentDown(T0, T0.plusSeconds(1));
        backoff.restarted();
        backoff.wentDown(T0.plusSeconds(1), T0.plusSeconds(2));
        assertThat(backoff.holding(T0.plusSeconds(2)).restart()).isEqualTo(2);
        backoff.restarted();

        Instant bootedAt = T0.plusSeconds(12);
        Instant down = bootedAt.plus(RestartBackoff.STABLE_AFTER);
        assertThat(backoff.wentDown(bootedAt, down)).as("restarted at once").isEqualTo(down);
        assertThat(backoff.holding(down)).isNull();
    }

    @Test
    void aHeldRestartSaysWhichRestartItIsHowLongItWaitsAndUntilWhen() {
        RestartBackoff backoff = new RestartBackoff();
        backoff.wentDown(T0, T0);
        backoff.restarted();
        backoff.wentDown(T0, T0.plusSeconds(5));
        assertThat(backoff.holding(T0.plusSeconds(6)))
                .isEqualTo(new VmObservation.RestartWait(2, Duration.ofSeconds(10), T0.plusSeconds(15)));
        backoff.reset();
        assertThat(backoff.holding(T0.plusSeconds(6))).isNull();
    }
}
