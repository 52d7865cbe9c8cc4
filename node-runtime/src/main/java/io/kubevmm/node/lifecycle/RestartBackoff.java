package io.kubevmm.node.lifecycle;

import io.kubevmm.node.lifecycle.VmObservation.RestartWait;

import java.time.Duration;
import java.time.Instant;

/**
 * Restarts of a guest that keeps going down (a crash loop, or a power-off loop under restartPolicy
 * Always) back off, as Kubernetes does for containers: the first restart comes at once, the second
 * after 10 s, each further one in a row waits twice as long, never more than 5 min. A guest that
 * stayed up 10 min since its last boot went down on its own rather than in a loop, so its count
 * starts again; so does a new spec generation (the user may have fixed what made it crash).
 * Plain bookkeeping on the VM thread; the clock is the caller's.
 */
final class RestartBackoff {
    static final Backoff DELAYS = new Backoff(Duration.ofSeconds(10), Duration.ofMinutes(5));
    static final Duration STABLE_AFTER = Duration.ofMinutes(10);

    /** Restarts in a row so far. */
    private int restarts;
    /** When the next restart may happen; null when it may happen at once. */
    private Instant notBefore;
    private Duration delay = Duration.ZERO;

    /** The wait before the {@code nth} restart in a row: none for the first. */
    static Duration delayBefore(int nth) {
        return DELAYS.delay(nth - 1);
    }

    /**
     * The guest went down at {@code at} (powered off, crashed, emulator gone), having been booted
     * at {@code bootedAt} (null when unknown): the next restart may not come before the time returned.
     */
    Instant wentDown(Instant bootedAt, Instant at) {
        if (bootedAt != null && !at.isBefore(bootedAt.plus(STABLE_AFTER))) {
            restarts = 0;
        }
        delay = delayBefore(restarts + 1);
        notBefore = at.plus(delay);
        return notBefore;
    }

    /** The restart held back at {@code now}, or null when a restart may go ahead. */
    RestartWait holding(Instant now) {
        return notBefore != null && now.isBefore(notBefore) ? new RestartWait(restarts + 1, delay, notBefore) : null;
    }

    /** A restart was carried out: the next one in a row waits longer. */
    void restarted() {
        restarts++;
        notBefore = null;
    }

    /** Forgets the loop: the next restart comes at once. */
    void reset() {
        restarts = 0;
        notBefore = null;
        delay = Duration.ZERO;
    }
}
