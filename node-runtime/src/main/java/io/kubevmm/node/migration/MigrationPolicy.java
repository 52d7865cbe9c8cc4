package io.kubevmm.node.migration;

import io.kubevmm.node.engine.MigrationSample;
import io.kubevmm.node.migration.PolicyAction.Abort;
import io.kubevmm.node.migration.PolicyAction.Continue;
import io.kubevmm.node.migration.PolicyAction.RaiseThrottle;
import io.kubevmm.node.migration.PolicyAction.SwitchToPostCopy;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Decides, from what {@code query-migrate} has reported so far, whether a live migration should go
 * on, push auto-converge harder, switch to post-copy or give up. Pure: no clock, no QEMU; the
 * executor samples QEMU every few hundred milliseconds, calls {@link #decide} and carries out the
 * action. Calling it again with the same state gives the same answer, so acting twice is harmless.
 *
 * <p>Per strategy, while the migration is still in pre-copy:
 * <ul>
 *   <li>PreCopy never switches. When progress stalls and auto-converge is on, it raises the throttle
 *       increment; at the completion timeout it aborts.</li>
 *   <li>PostCopy switches as soon as the first (bulk) pass is done.</li>
 *   <li>Hybrid switches once pre-copy has stalled.</li>
 *   <li>Auto switches after the first pass when the guest dirties memory nearly as fast as it can be
 *       sent, or when pre-copy has stalled; otherwise it lets pre-copy finish.</li>
 *   <li>All but PreCopy switch at {@value #SWITCH_AT_TIMEOUT_PERCENT}% of the completion timeout, so
 *       post-copy still has time to finish; any strategy aborts when the timeout passes in pre-copy.</li>
 * </ul>
 * Once post-copy has started the answer is always {@link Continue}: the guest already runs on the
 * target, so aborting would lose it.
 */
public final class MigrationPolicy {

    /**
     * QEMU counts one bitmap sync when the migration starts and one at the end of every pass, so two
     * means the bulk copy of all RAM is done. Switching before that sends most of RAM as post-copy
     * page faults: measured ~1.1 s downtime, against 16–82 ms after two passes (QEMU-NOTES; 152 ms in
     * dirty-postcopy.jsonl).
     */
    static final long FIRST_PASS_DONE_ITERATIONS = 2;

    /** Passes without meaningful progress before pre-copy counts as stalled. */
    static final int STALL_PASSES = 3;

    /** Progress means a pass's expected downtime at least this fraction below the pass before the stall window. */
    static final double MEANINGFUL_SHRINK = 0.10;

    /**
     * Each pass has to resend what the guest dirtied during the previous one, so passes shrink by the
     * factor dirty rate / transfer rate. At 0.8 it takes ~10 passes to lose 90%: too slow to wait for.
     */
    static final double DIRTY_TO_TRANSFER_LIMIT = 0.8;

    /**
     * Leaves the last 30% of the timeout to post-copy, which then only has to send what is left once, at
     * full speed (dirty-postcopy.jsonl: 115 MiB left, done 0.6 s after the switch). A judgement, not a measurement.
     */
    static final int SWITCH_AT_TIMEOUT_PERCENT = 70;

    /** Twice QEMU's default of 10: measured 50/20 converging in 25 s where 20/10 took 39–54 s (QEMU-NOTES). */
    static final int STALL_THROTTLE_INCREMENT = 20;

    /** QEMU's ceiling for {@code cpu-throttle-percentage}. */
    static final int MAX_THROTTLE_PERCENT = 99;

    private static final PolicyAction CONTINUE = new Continue();
    private static final double MiB = 1024.0 * 1024.0;

    private MigrationPolicy() {
    }

    /**
     * @param history source-side samples of this migration, oldest first
     * @return what to do now; {@link Continue} when there is nothing to decide yet or any more
     */
    public static PolicyAction decide(MigrationSettings settings, List<MigrationSample> history) {
        if (history.isEmpty() || postCopyStarted(history)) {
            return CONTINUE;
        }
        MigrationSample now = history.getLast();
        if (!inPreCopy(now)) {
            return CONTINUE; // completed, failed or cancelled: nothing left to steer
        }
        if (timedOut(settings, now)) {
            return new Abort(String.format(Locale.ROOT,
                    "still in pre-copy after %s, the completion timeout: %s; the VM keeps running on the source",
                    seconds(now.elapsedMillis()), progress(now)));
        }
        return switch (settings.strategy()) {
            case PreCopy -> preCopy(settings, history);
            case PostCopy -> postCopy(settings, now);
            case Hybrid -> hybrid(settings, history);
            case Auto -> auto(settings, history);
        };
    }

    private static PolicyAction preCopy(MigrationSettings settings, List<MigrationSample> history) {
        MigrationSample now = history.getLast();
        if (settings.autoConverge() && stalled(settings, history) && now.throttlePercent() < MAX_THROTTLE_PERCENT) {
            return new RaiseThrottle(STALL_THROTTLE_INCREMENT, stallReason(settings, history)
                    + String.format(Locale.ROOT, "; guest throttled %d%%, throttling harder", now.throttlePercent()));
        }
        return CONTINUE;
    }

    private static PolicyAction postCopy(MigrationSettings settings, MigrationSample now) {
        if (firstPassDone(now)) {
            return new SwitchToPostCopy(String.format(Locale.ROOT,
                    "first pass done after %s (%s sent); %s left for post-copy",
                    seconds(now.elapsedMillis()), mib(now.transferredBytes()), mib(now.remainingBytes())));
        }
        return switchBeforeTimeout(settings, now);
    }

    private static PolicyAction hybrid(MigrationSettings settings, List<MigrationSample> history) {
        MigrationSample now = history.getLast();
        if (firstPassDone(now) && stalled(settings, history)) {
            return new SwitchToPostCopy(stallReason(settings, history));
        }
        return switchBeforeTimeout(settings, now);
    }

    private static PolicyAction auto(MigrationSettings settings, List<MigrationSample> history) {
        MigrationSample now = history.getLast();
        if (firstPassDone(now) && dirtyOutpacesTransfer(now)) {
            return new SwitchToPostCopy(String.format(Locale.ROOT,
                    "after %d passes the guest dirties %s/s, at least %d%% of the transfer rate %s/s: pre-copy would not converge",
                    now.iterations() - 1, mib(now.dirtyRateBytesPerSecond()),
                    Math.round(DIRTY_TO_TRANSFER_LIMIT * 100), mib(now.transferRateBytesPerSecond())));
        }
        if (firstPassDone(now) && stalled(settings, history)) {
            return new SwitchToPostCopy(stallReason(settings, history));
        }
        return switchBeforeTimeout(settings, now);
    }

    /** Switches at {@value #SWITCH_AT_TIMEOUT_PERCENT}% of the timeout rather than abort at 100%. */
    private static PolicyAction switchBeforeTimeout(MigrationSettings settings, MigrationSample now) {
        if (pastSwitchDeadline(settings, now)) {
            return new SwitchToPostCopy(String.format(Locale.ROOT,
                    "%s of the %s completion timeout used, still in pre-copy (%s); switching so post-copy can finish in time",
                    seconds(now.elapsedMillis()), seconds(settings.completionTimeout().toMillis()), progress(now)));
        }
        return CONTINUE;
    }

    /**
     * Post-copy cannot be undone: once any sample shows it, the guest's newest state lives on the
     * target, and only the executor's failure handling applies.
     */
    static boolean postCopyStarted(List<MigrationSample> history) {
        return history.stream().anyMatch(MigrationSample::inPostCopy);
    }

    /** Only a migration still copying ahead of the guest can be steered; setup counts, for the timeout. */
    static boolean inPreCopy(MigrationSample now) {
        return now.status().inPreCopy();
    }

    /** The bulk copy of all RAM is over; see {@link #FIRST_PASS_DONE_ITERATIONS} for why it matters. */
    static boolean firstPassDone(MigrationSample now) {
        return now.iterations() >= FIRST_PASS_DONE_ITERATIONS;
    }

    static boolean timedOut(MigrationSettings settings, MigrationSample now) {
        Duration timeout = settings.completionTimeout();
        return timeout != null && now.elapsedMillis() >= timeout.toMillis();
    }

    static boolean pastSwitchDeadline(MigrationSettings settings, MigrationSample now) {
        Duration timeout = settings.completionTimeout();
        return timeout != null && now.elapsedMillis() * 100 >= timeout.toMillis() * SWITCH_AT_TIMEOUT_PERCENT;
    }

    /**
     * The guest dirties memory at least {@value #DIRTY_TO_TRANSFER_LIMIT} times as fast as it is sent.
     * With no transfer rate measured there is nothing to compare, so this says no and the stall
     * detector, which needs no rates, decides instead. QEMU counts each dirty page once per sync period,
     * so after a long pass a small hot buffer looks slow (dirty-precopy.jsonl: 30 MiB/s after the 4 s
     * bulk pass, 51 MiB/s one pass later): the stall detector covers that case too.
     */
    static boolean dirtyOutpacesTransfer(MigrationSample now) {
        return now.transferRateBytesPerSecond() > 0
                && now.dirtyRateBytesPerSecond() >= DIRTY_TO_TRANSFER_LIMIT * now.transferRateBytesPerSecond();
    }

    /**
     * Pre-copy is going nowhere: QEMU's expected downtime is still above the allowed pause, and none
     * of the last {@value #STALL_PASSES} passes got it 10% below the pass before them. QEMU computes it
     * at each bitmap sync (what is left to send then, divided by the bandwidth), so it measures each
     * pass's size; {@code remaining} would depend on how far into the pass a sample happened to fall
     * (in the recorded traces, by up to a quarter of the pass).
     */
    static boolean stalled(MigrationSettings settings, List<MigrationSample> history) {
        List<Long> passes = passDowntimes(history);
        if (passes.size() <= STALL_PASSES) {
            return false;
        }
        long before = passes.get(passes.size() - STALL_PASSES - 1);
        long best = passes.subList(passes.size() - STALL_PASSES, passes.size()).stream()
                .mapToLong(Long::longValue).min().orElseThrow();
        return best > (1 - MEANINGFUL_SHRINK) * before
                && history.getLast().expectedDowntimeMillis() > settings.maxDowntimeMillis();
    }

    /**
     * QEMU's expected downtime for each pass after the bulk one, oldest first: the lowest it reported
     * during the pass, because a momentary bandwidth dip inflates it. Until QEMU has measured a dirty
     * rate it reports its downtime limit as a placeholder (seen at the start of the second pass in
     * dirty-precopy.jsonl), so such samples do not count. Passes without a measured sample are absent.
     */
    static List<Long> passDowntimes(List<MigrationSample> history) {
        Map<Long, Long> byPass = new TreeMap<>();
        for (MigrationSample sample : history) {
            if (sample.iterations() >= FIRST_PASS_DONE_ITERATIONS && inPreCopy(sample)
                    && sample.dirtyRateBytesPerSecond() > 0) {
                byPass.merge(sample.iterations(), sample.expectedDowntimeMillis(), Math::min);
            }
        }
        return List.copyOf(byPass.values());
    }

    private static String stallReason(MigrationSettings settings, List<MigrationSample> history) {
        MigrationSample now = history.getLast();
        List<Long> passes = passDowntimes(history);
        return String.format(Locale.ROOT,
                "expected downtime is not getting closer to the allowed %d ms: %s ms over the last %d passes (less than %d%% better); remaining %s, dirty rate %s/s, transfer rate %s/s",
                settings.maxDowntimeMillis(),
                String.join(", ", passes.subList(passes.size() - STALL_PASSES - 1, passes.size()).stream()
                        .map(String::valueOf).toList()),
                STALL_PASSES + 1, Math.round(MEANINGFUL_SHRINK * 100),
                mib(now.remainingBytes()), mib(now.dirtyRateBytesPerSecond()), mib(now.transferRateBytesPerSecond()));
    }

    private static String progress(MigrationSample now) {
        return String.format(Locale.ROOT, "pass %d, remaining %s, dirty rate %s/s, transfer rate %s/s",
                now.iterations(), mib(now.remainingBytes()), mib(now.dirtyRateBytesPerSecond()),
                mib(now.transferRateBytesPerSecond()));
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.0f MiB", bytes / MiB);
    }

    private static String seconds(long millis) {
        return String.format(Locale.ROOT, "%.1f s", millis / 1000.0);
    }
}
