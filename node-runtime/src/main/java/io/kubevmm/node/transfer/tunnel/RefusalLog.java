package io.kubevmm.node.transfer.tunnel;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Decides which refused tunnel connections get a log line: the first one of every window, then
 * one line when the next window opens saying how many were refused meanwhile. A flood of bad
 * connections (a port scan, a peer with the wrong secret in a loop) thus costs a line per window,
 * not a line per connection; the full count stays in the rejected-connections metric.
 */
final class RefusalLog {
    private final long windowNanos;
    private final LongSupplier nanoClock;
    private long windowStart;
    private boolean windowOpen;
    private long suppressed;
    private String lastSuppressed;

    RefusalLog(Duration window, LongSupplier nanoClock) {
        this.windowNanos = window.toNanos();
        this.nanoClock = nanoClock;
    }

    /** The line to log for this refusal, or null when it is only counted. */
    synchronized String refused(String remote, String reason) {
        long now = nanoClock.getAsLong();
        if (windowOpen && now - windowStart < windowNanos) {
            suppressed++;
            lastSuppressed = remote + ": " + reason;
            return null;
        }
        String line = "Refused migration tunnel connection from " + remote + ": " + reason;
        if (suppressed > 0) {
            line += " (" + suppressed + " more refused in the " + Duration.ofNanos(windowNanos).toSeconds()
                    + " s before, not logged one by one; last from " + lastSuppressed + ")";
        }
        windowOpen = true;
        windowStart = now;
        suppressed = 0;
        lastSuppressed = null;
        return line;
    }
}
