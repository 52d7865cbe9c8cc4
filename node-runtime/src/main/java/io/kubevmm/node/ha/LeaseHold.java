package io.kubevmm.node.ha;

import io.kubevmm.node.config.NodeConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * What this node knows of its own Lease: when it was last renewed (the renew time written by a
 * renewal that succeeded) and whether the operator marked it fenced. Every renewal also writes
 * the heartbeat file ({@code <stateDir>/heartbeat}, modification time = renew time) the fence
 * guard watches. A node runtime that starts takes the last renewal from that file: an earlier
 * runtime's renewal is what bounds how long its guests may still run.
 */
@ApplicationScoped
public class LeaseHold {
    private static final Logger LOG = Logger.getLogger(LeaseHold.class);
    public static final String HEARTBEAT_FILE = "heartbeat";

    private final Path heartbeat;
    private final Duration fenceAfter;
    private final Clock clock;
    private volatile Instant lastRenewal;
    private volatile boolean fencedByOperator;

    @Inject
    LeaseHold(NodeConfig config) {
        this(config.stateDir(), config.fenceAfter(), config.leaseDuration(), Clock.systemUTC());
    }

    LeaseHold(Path stateDir, Duration fenceAfter, Duration leaseDuration, Clock clock) {
        if (fenceAfter.compareTo(leaseDuration) >= 0) {
            throw new IllegalArgumentException("kubevmm.node.fence-after (" + fenceAfter + ") must be shorter than "
                    + "kubevmm.node.lease-duration (" + leaseDuration + "): a node must have killed its highly available "
                    + "guests before the operator may start them elsewhere; see docs/ha.md");
        }
        this.heartbeat = stateDir.resolve(HEARTBEAT_FILE);
        this.fenceAfter = fenceAfter;
        this.clock = clock;
        try {
            this.lastRenewal = Files.exists(heartbeat) ? Files.getLastModifiedTime(heartbeat).toInstant() : null;
        } catch (IOException e) {
            this.lastRenewal = null;
        }
    }

    public Path heartbeatFile() { return heartbeat; }

    public Duration fenceAfter() { return fenceAfter; }

    /** A renewal that wrote {@code renewTime} succeeded; {@code fenced}: the Lease carries the operator's fence mark. */
    public void renewed(Instant renewTime, boolean fenced) {
        if (fenced && !fencedByOperator) {
            LOG.warnf("the operator marked this node's Lease fenced: it declared the node lost, so its highly available "
                    + "guests may run elsewhere; none of them runs or boots here until the mark is gone");
        } else if (!fenced && fencedByOperator) {
            LOG.infof("the operator removed the fence mark from this node's Lease: highly available guests placed here may run again");
        }
        fencedByOperator = fenced;
        lastRenewal = renewTime;
        try {
            Files.createDirectories(heartbeat.getParent());
            Path partial = heartbeat.resolveSibling(HEARTBEAT_FILE + ".partial");
            Files.writeString(partial, renewTime.getEpochSecond() + "\n");
            Files.setLastModifiedTime(partial, FileTime.from(renewTime));
            Files.move(partial, heartbeat, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            // The guard then fences when the last written heartbeat ages: safe, if early.
            LOG.warnf("cannot write the heartbeat file %s: %s", heartbeat, e.getMessage());
        }
    }

    public FenceRule rule() {
        return new FenceRule(lastRenewal, fencedByOperator, fenceAfter);
    }

    public boolean mayRunFencedGuests() {
        return rule().mayRun(clock.instant());
    }

    public String whyNot() {
        return rule().why(clock.instant());
    }

    /** After a clean shutdown with no guest to guard: the guard sees the file gone and exits. */
    public void removeHeartbeat() {
        try {
            Files.deleteIfExists(heartbeat);
        } catch (IOException e) {
            LOG.warnf("cannot remove %s: %s", heartbeat, e.getMessage());
        }
    }
}
