package io.kubevmm.operator.ha;

import java.time.Duration;
import java.time.Instant;

/**
 * What the operator reads from a node's Lease {@code kubevmm-node-<node>}, and the deadlines of
 * docs/ha.md that follow from it. Pure.
 *
 * <ul>
 *   <li>{@link #expiresAt()}: renew time + lease duration; past it the node is lost.</li>
 *   <li>{@link #fencedBy(Duration)}: expiry + the fence margin. The node runtime and its fence
 *   guard kill the node's Restart guests fence-after (shorter than the lease) after the renew time
 *   they wrote; the margin covers the kill itself, the guard's one-second polling and clock skew
 *   between hosts. Only past this moment may a copy start elsewhere.</li>
 * </ul>
 *
 * @param renewTime   the last renew time the node wrote, null if the Lease has none (or is missing)
 * @param duration    the lease duration the node wrote
 * @param fencedAt    when the operator marked the Lease fenced, null if it is not
 * @param version     the Lease's resourceVersion as read: the fence mark is written only on this
 *                    version, so a renewal in between wins
 */
public record NodeLease(String node, Instant renewTime, Duration duration, Instant fencedAt, String version) {
    /** The Lease duration assumed when the Lease does not say (an old node runtime wrote it). */
    public static final Duration DEFAULT_DURATION = Duration.ofSeconds(40);

    public static NodeLease missing(String node) {
        return new NodeLease(node, null, DEFAULT_DURATION, null, null);
    }

    public Instant expiresAt() {
        return renewTime == null ? Instant.EPOCH : renewTime.plus(duration);
    }

    public boolean lost(Instant now) {
        return !now.isBefore(expiresAt());
    }

    /** The moment by which the node's Restart guests are provably stopped. */
    public Instant fencedBy(Duration margin) {
        return expiresAt().plus(margin);
    }

    public boolean fenceMarked() {
        return fencedAt != null;
    }

    /** A renewal came after the fence mark: the node is back (and honours the mark until the operator removes it). */
    public boolean renewedSinceFence() {
        return fencedAt != null && renewTime != null && renewTime.isAfter(fencedAt);
    }
}
