package io.kubevmm.node.migration;

import io.kubevmm.api.v1alpha1.VMMigrationSpec.Strategy;
import io.kubevmm.node.engine.MigrationSample;
import io.kubevmm.node.engine.MigrationStatus;
import io.kubevmm.node.migration.PolicyAction.Abort;
import io.kubevmm.node.migration.PolicyAction.Continue;
import io.kubevmm.node.migration.PolicyAction.RaiseThrottle;
import io.kubevmm.node.migration.PolicyAction.SwitchToPostCopy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The migration policy replayed sample by sample over migrations recorded from real QEMU
 * ({@link TraceRecorder}): a 256 MiB microvm guest under TCG, copied at 64 MiB/s, either idle or
 * rewriting a 128 MiB buffer, plus a few synthetic edge cases.
 */
class MigrationPolicyTest {

    private static final RecordedTrace IDLE = RecordedTrace.load("idle-precopy");
    private static final RecordedTrace CONVERGING = RecordedTrace.load("light-precopy");
    private static final RecordedTrace WRITE_HEAVY = RecordedTrace.load("dirty-precopy");
    private static final RecordedTrace AUTO_CONVERGE = RecordedTrace.load("dirty-autoconverge");
    private static final RecordedTrace POST_COPY = RecordedTrace.load("dirty-postcopy");

    private static final long MiB = 1024 * 1024;

    private static MigrationSettings settings(Strategy strategy, Duration timeout, boolean autoConverge) {
        return new MigrationSettings(strategy, 300, 64 * MiB, timeout, autoConverge);
    }

    private static int firstAction(List<PolicyAction> actions) {
        return IntStream.range(0, actions.size())
                .filter(i -> !(actions.get(i) instanceof Continue))
                .findFirst().orElse(-1);
    }

    @Test
    void tracesAreWhatTheirNamesSay() {
        assertThat(IDLE.samples().getLast().status()).isEqualTo(MigrationStatus.COMPLETED);
        assertThat(CONVERGING.samples().getLast().status()).isEqualTo(MigrationStatus.COMPLETED);
        assertThat(WRITE_HEAVY.samples().getLast().status()).isEqualTo(MigrationStatus.CANCELLED);
        assertThat(WRITE_HEAVY.header().at("/outcome/passes").asLong()).isGreaterThan(10);
        assertThat(AUTO_CONVERGE.samples().getLast().status()).isEqualTo(MigrationStatus.COMPLETED);
        assertThat(AUTO_CONVERGE.header().at("/outcome/maxThrottlePercent").asInt()).isEqualTo(99);
        assertThat(POST_COPY.samples()).anyMatch(MigrationSample::inPostCopy);
        assertThat(POST_COPY.samples().getLast().status()).isEqualTo(MigrationStatus.COMPLETED);
    }

    @ParameterizedTest
    @EnumSource(Strategy.class)
    void idleGuestIsLeftToFinishInPreCopyWhateverTheStrategy(Strategy strategy) {
        for (boolean autoConverge : new boolean[] {false, true}) {
            assertThat(IDLE.replay(settings(strategy, Duration.ofSeconds(30), autoConverge)))
                    .allMatch(Continue.class::isInstance);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Strategy.class, names = {"PreCopy", "Hybrid", "Auto"})
    void guestThatDirtiesSlowerThanTheCopyIsLeftToConvergeInPreCopy(Strategy strategy) {
        // the decision was really taken: pre-copy samples after the first pass, with rates to compare
        List<MigrationSample> afterFirstPass = CONVERGING.samples().stream()
                .filter(s -> s.status().equals(MigrationStatus.ACTIVE) && MigrationPolicy.firstPassDone(s)).toList();
        assertThat(afterFirstPass).hasSizeGreaterThanOrEqualTo(2)
                .allMatch(s -> s.dirtyRateBytesPerSecond() > 0 && !MigrationPolicy.dirtyOutpacesTransfer(s));

        assertThat(CONVERGING.replay(settings(strategy, Duration.ofSeconds(30), true)))
                .allMatch(Continue.class::isInstance);
    }

    @Test
    void preCopyWithoutAutoConvergeAbortsAtTheTimeoutAndNotBefore() {
        Duration timeout = Duration.ofSeconds(20);
        List<PolicyAction> actions = WRITE_HEAVY.replay(settings(Strategy.PreCopy, timeout, false));

        int first = firstAction(actions);
        MigrationSample at = WRITE_HEAVY.samples().get(first);
        assertThat(actions.get(first)).isInstanceOf(Abort.class);
        assertThat(at.elapsedMillis()).isGreaterThanOrEqualTo(timeout.toMillis());
        assertThat(WRITE_HEAVY.samples().get(first - 1).elapsedMillis()).isLessThan(timeout.toMillis());
        assertThat(((Abort) actions.get(first)).reason())
                .startsWith("still in pre-copy after " + String.format(Locale.ROOT, "%.1f s", at.elapsedMillis() / 1000.0))
                .contains("remaining", "dirty rate", "transfer rate", "keeps running on the source");
    }

    @Test
    void preCopyWithoutTimeoutKeepsTryingAsTheUserAsked() {
        assertThat(WRITE_HEAVY.replay(settings(Strategy.PreCopy, null, false)))
                .allMatch(Continue.class::isInstance);
    }

    @Test
    void preCopyWithAutoConvergeThrottlesHarderOnceStalledAndNeverSwitches() {
        List<PolicyAction> actions = AUTO_CONVERGE.replay(settings(Strategy.PreCopy, null, true));

        assertThat(actions).allMatch(a -> a instanceof Continue || a instanceof RaiseThrottle);
        int first = firstAction(actions);
        assertThat(first).isPositive();
        // a stall needs the pass before the window and STALL_PASSES passes after the bulk pass
        assertThat(AUTO_CONVERGE.samples().get(first).iterations())
                .isGreaterThanOrEqualTo(MigrationPolicy.FIRST_PASS_DONE_ITERATIONS + MigrationPolicy.STALL_PASSES);
        RaiseThrottle raise = (RaiseThrottle) actions.get(first);
        assertThat(raise.incrementPercent()).isEqualTo(MigrationPolicy.STALL_THROTTLE_INCREMENT);
        assertThat(raise.reason()).contains("allowed 300 ms", "passes", "throttled");
        // at QEMU's 99% ceiling there is nothing left to raise
        for (int i = 0; i < actions.size(); i++) {
            if (AUTO_CONVERGE.samples().get(i).throttlePercent() >= MigrationPolicy.MAX_THROTTLE_PERCENT) {
                assertThat(actions.get(i)).isInstanceOf(Continue.class);
            }
        }
    }

    @Test
    void postCopySwitchesExactlyOnceRightAfterTheFirstPass() {
        List<PolicyAction> actions = POST_COPY.replay(settings(Strategy.PostCopy, null, false));

        assertThat(actions.stream().filter(SwitchToPostCopy.class::isInstance)).hasSize(1);
        assertThat(actions).allMatch(a -> a instanceof Continue || a instanceof SwitchToPostCopy);
        int at = firstAction(actions);
        assertThat(POST_COPY.samples().get(at).iterations()).isEqualTo(MigrationPolicy.FIRST_PASS_DONE_ITERATIONS);
        assertThat(POST_COPY.samples().get(at - 1).iterations()).isLessThan(MigrationPolicy.FIRST_PASS_DONE_ITERATIONS);
        assertThat(((SwitchToPostCopy) actions.get(at)).reason()).startsWith("first pass done after");
    }

    @Test
    void postCopyNeverSwitchesDuringTheBulkPass() {
        List<PolicyAction> actions = WRITE_HEAVY.replay(settings(Strategy.PostCopy, null, false));

        for (int i = 0; i < actions.size(); i++) {
            boolean firstPassDone = WRITE_HEAVY.samples().get(i).iterations() >= MigrationPolicy.FIRST_PASS_DONE_ITERATIONS;
            assertThat(actions.get(i) instanceof SwitchToPostCopy)
                    .as("sample %d at pass %d", i, WRITE_HEAVY.samples().get(i).iterations())
                    .isEqualTo(firstPassDone && !WRITE_HEAVY.samples().get(i).status().equals(MigrationStatus.CANCELLED));
        }
    }

    @Test
    void autoMovesTheWriteHeavyGuestToPostCopyBeforeTheTimeoutInsteadOfAborting() {
        Duration timeout = Duration.ofSeconds(25);
        List<PolicyAction> actions = WRITE_HEAVY.replay(settings(Strategy.Auto, timeout, true));

        int first = firstAction(actions);
        MigrationSample at = WRITE_HEAVY.samples().get(first);
        assertThat(actions.get(first)).isInstanceOf(SwitchToPostCopy.class);
        assertThat(at.elapsedMillis()).isLessThan(timeout.toMillis());
        assertThat(at.iterations()).isGreaterThanOrEqualTo(MigrationPolicy.FIRST_PASS_DONE_ITERATIONS);
        // decided by the rates, not by the clock
        assertThat(((SwitchToPostCopy) actions.get(first)).reason()).contains("dirties", "of the transfer rate");
    }

    @Test
    void autoStillSwitchesWhenAutoConvergeThrottlesTheGuest() {
        List<PolicyAction> actions = AUTO_CONVERGE.replay(settings(Strategy.Auto, null, true));

        int first = firstAction(actions);
        assertThat(actions.get(first)).isInstanceOf(SwitchToPostCopy.class);
        assertThat(AUTO_CONVERGE.samples().get(first).elapsedMillis())
                .isLessThan(AUTO_CONVERGE.header().at("/outcome/totalTimeMillis").asLong() / 2);
    }

    @Test
    void hybridSwitchesOnlyOncePreCopyHasStalled() {
        List<PolicyAction> actions = WRITE_HEAVY.replay(settings(Strategy.Hybrid, null, false));

        int first = firstAction(actions);
        assertThat(actions.get(first)).isInstanceOf(SwitchToPostCopy.class);
        MigrationSettings hybrid = settings(Strategy.Hybrid, null, false);
        assertThat(MigrationPolicy.stalled(hybrid, WRITE_HEAVY.samples().subList(0, first + 1))).isTrue();
        assertThat(MigrationPolicy.stalled(hybrid, WRITE_HEAVY.samples().subList(0, first))).isFalse();
        assertThat(WRITE_HEAVY.samples().get(first).iterations())
                .isGreaterThanOrEqualTo(MigrationPolicy.FIRST_PASS_DONE_ITERATIONS + MigrationPolicy.STALL_PASSES);
        assertThat(((SwitchToPostCopy) actions.get(first)).reason())
                .startsWith("expected downtime is not getting closer to the allowed 300 ms: ")
                .contains("over the last 4 passes (less than 10% better)");
    }

    @ParameterizedTest
    @EnumSource(Strategy.class)
    void oncePostCopyIsActiveTheAnswerIsAlwaysContinue(Strategy strategy) {
        // even a timeout long past must not abort: the guest already runs on the target
        List<PolicyAction> actions = POST_COPY.replay(settings(strategy, Duration.ofMillis(1), true));
        int switched = IntStream.range(0, POST_COPY.samples().size())
                .filter(i -> POST_COPY.samples().get(i).inPostCopy()).findFirst().orElseThrow();

        assertThat(actions.subList(switched, actions.size())).allMatch(Continue.class::isInstance);
    }

    // --- synthetic edge cases -------------------------------------------------------------------

    private static MigrationSample sample(long elapsedMillis, long iterations, long dirtyRate, long transferRate) {
        return new MigrationSample(elapsedMillis, MigrationStatus.ACTIVE, iterations, 256 * MiB, 300 * MiB, 100 * MiB,
                dirtyRate, transferRate, 0, 2000);
    }

    @ParameterizedTest
    @EnumSource(Strategy.class)
    void emptyHistoryMeansContinue(Strategy strategy) {
        assertThat(MigrationPolicy.decide(settings(strategy, Duration.ofSeconds(1), true), List.of()))
                .isInstanceOf(Continue.class);
    }

    @Test
    void zeroTransferRateIsNoEvidenceThatTheGuestOutpacesTheCopy() {
        MigrationSample stuck = sample(5000, 3, 60 * MiB, 0);

        assertThat(MigrationPolicy.dirtyOutpacesTransfer(stuck)).isFalse();
        assertThat(MigrationPolicy.decide(settings(Strategy.Auto, null, false), List.of(stuck)))
                .isInstanceOf(Continue.class);
    }

    @Test
    void withoutTimeoutNothingEverAbortsOrSwitchesByTheClock() {
        MigrationSample late = sample(Duration.ofHours(5).toMillis(), 1, 0, 64 * MiB);

        for (Strategy strategy : Strategy.values()) {
            assertThat(MigrationPolicy.decide(settings(strategy, null, false), List.of(late)))
                    .as(strategy.name()).isInstanceOf(Continue.class);
        }
    }

    @Test
    void strategiesThatMaySwitchDoSoAtSeventyPercentOfTheTimeoutEvenInTheBulkPass() {
        Duration timeout = Duration.ofSeconds(10);
        MigrationSample before = sample(6999, 1, 0, 64 * MiB);
        MigrationSample at = sample(7000, 1, 0, 64 * MiB);

        for (Strategy strategy : List.of(Strategy.PostCopy, Strategy.Hybrid, Strategy.Auto)) {
            assertThat(MigrationPolicy.decide(settings(strategy, timeout, false), List.of(before)))
                    .as(strategy.name()).isInstanceOf(Continue.class);
            assertThat(MigrationPolicy.decide(settings(strategy, timeout, false), List.of(before, at)))
                    .as(strategy.name()).isInstanceOfSatisfying(SwitchToPostCopy.class, s ->
                            assertThat(s.reason()).startsWith("7.0 s of the 10.0 s completion timeout used"));
        }
        assertThat(MigrationPolicy.decide(settings(Strategy.PreCopy, timeout, false), List.of(before, at)))
                .isInstanceOf(Continue.class);
    }

    @Test
    void anyStrategyStillInPreCopyAtTheTimeoutAborts() {
        MigrationSample expired = sample(10_000, 4, 10 * MiB, 64 * MiB);

        for (Strategy strategy : Strategy.values()) {
            assertThat(MigrationPolicy.decide(settings(strategy, Duration.ofSeconds(10), false), List.of(expired)))
                    .as(strategy.name()).isInstanceOf(Abort.class);
        }
    }

    @Test
    void aFinishedMigrationNeedsNoDecision() {
        MigrationSample expired = sample(60_000, 4, 10 * MiB, 64 * MiB);
        for (MigrationStatus status : List.of(MigrationStatus.COMPLETED, MigrationStatus.FAILED, MigrationStatus.CANCELLED)) {
            MigrationSample end = new MigrationSample(60_500, status, 0, 0, 0, 0, 0, 0, 0, 0);
            assertThat(MigrationPolicy.decide(settings(Strategy.PreCopy, Duration.ofSeconds(10), true), List.of(expired, end)))
                    .as(status.name()).isInstanceOf(Continue.class);
        }
    }

    @Test
    void downtimePlaceholderBeforeTheFirstDirtyRateIsNotMistakenForProgress() {
        // QEMU reports its 300 ms limit as expected downtime until it has measured a dirty rate;
        // counting it would make the real 2000 ms passes after it look like a stall from 300 ms
        MigrationSettings hybrid = settings(Strategy.Hybrid, null, false);
        List<MigrationSample> converging = List.of(
                new MigrationSample(3000, MigrationStatus.ACTIVE, 2, 256 * MiB, 200 * MiB, 120 * MiB, 0, 64 * MiB, 0, 300),
                new MigrationSample(3500, MigrationStatus.ACTIVE, 2, 256 * MiB, 230 * MiB, 90 * MiB, 30 * MiB, 64 * MiB, 0, 1900),
                new MigrationSample(4000, MigrationStatus.ACTIVE, 3, 256 * MiB, 260 * MiB, 60 * MiB, 30 * MiB, 64 * MiB, 0, 1500),
                new MigrationSample(4500, MigrationStatus.ACTIVE, 4, 256 * MiB, 290 * MiB, 40 * MiB, 30 * MiB, 64 * MiB, 0, 1200),
                new MigrationSample(5000, MigrationStatus.ACTIVE, 5, 256 * MiB, 320 * MiB, 30 * MiB, 30 * MiB, 64 * MiB, 0, 900));

        assertThat(MigrationPolicy.passDowntimes(converging)).containsExactly(1900L, 1500L, 1200L, 900L);
        assertThat(MigrationPolicy.stalled(hybrid, converging)).isFalse();
    }

    @Test
    void settingsRejectNonsense() {
        assertThatThrownBy(() -> new MigrationSettings(null, 300, 0, null, false))
                .hasMessageContaining("strategy");
        assertThatThrownBy(() -> new MigrationSettings(Strategy.Auto, 0, 0, null, false))
                .hasMessageContaining("maxDowntimeMillis");
        assertThatThrownBy(() -> new MigrationSettings(Strategy.Auto, 300, -1, null, false))
                .hasMessageContaining("bandwidthBytesPerSecond");
    }
}
