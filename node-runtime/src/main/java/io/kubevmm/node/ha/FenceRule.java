package io.kubevmm.node.ha;

import java.time.Duration;
import java.time.Instant;

/**
 * Whether this node may run guests another node may restart: only while its last successful
 * Lease renewal (the renew time it wrote) is younger than {@code fenceAfter} and the operator has
 * not marked its Lease fenced. Pure, so the deadlines are testable with any clock.
 *
 * @param lastRenewal the renew time of the last renewal that succeeded, null if none is known
 * @param fencedByOperator the Lease carries the operator's fence mark: the node was declared
 *                         lost and its Restart VMs may already run elsewhere
 */
public record FenceRule(Instant lastRenewal, boolean fencedByOperator, Duration fenceAfter) {

    /** The moment guests must be down by, or null if no renewal is known (they must be down now). */
    public Instant fenceAt() {
        return lastRenewal == null ? null : lastRenewal.plus(fenceAfter);
    }

    public boolean mayRun(Instant now) {
        return !fencedByOperator && lastRenewal != null && now.isBefore(fenceAt());
    }

    /** Why guests may not run, for logs. */
    public String why(Instant now) {
        if (fencedByOperator) {
            return "the operator declared this node lost and marked its Lease fenced (its VMs may run elsewhere)";
        }
        if (lastRenewal == null) {
            return "no Lease renewal is known yet";
        }
        return "the Lease was last renewed at " + lastRenewal + ", " + Duration.between(lastRenewal, now).toSeconds()
                + " s ago (fence-after " + fenceAfter.toSeconds() + " s)";
    }
}
