package io.kubevmm.node.snapshot;

import io.kubevmm.node.agent.AgentException;
import io.kubevmm.node.agent.GuestAgent;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The guest's file systems held frozen through its agent around a snapshot's capture, so the
 * disks hold what the guest's caches had (application-consistent as far as the file systems go)
 * rather than what a power cut would leave. Without a connected agent nothing is frozen and the
 * snapshot is crash-consistent. {@link #close()} always thaws, retrying; a thaw that keeps failing
 * is reported (the guest's writes wait until it succeeds). What it did becomes VMSnapshot
 * {@code status.indications}: {@code GuestAgent}, {@code Frozen}, {@code NoGuestAgent}.
 */
final class GuestFreeze implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(GuestFreeze.class);
    static final String GUEST_AGENT = "GuestAgent";
    static final String FROZEN = "Frozen";
    static final String NO_GUEST_AGENT = "NoGuestAgent";
    static final int THAW_ATTEMPTS = 3;
    static final Duration THAW_PAUSE = Duration.ofSeconds(1);

    private final GuestAgent agent;
    private final String vm;
    private final List<String> indications = new ArrayList<>();
    private boolean frozen;
    private String problem;

    private GuestFreeze(GuestAgent agent, String vm) {
        this.agent = agent;
        this.vm = vm;
    }

    /** Freezes {@code vm}'s file systems when {@code agent} is connected; {@code live}: an emulator runs the guest. */
    static GuestFreeze freeze(GuestAgent agent, String vm, boolean live) {
        GuestFreeze freeze = new GuestFreeze(agent, vm);
        if (!live || agent == null || !agent.connected()) {
            freeze.indications.add(NO_GUEST_AGENT);
            return freeze;
        }
        freeze.indications.add(GUEST_AGENT);
        try {
            int count = agent.freeze();
            freeze.frozen = true;
            freeze.indications.add(FROZEN);
            LOG.infof("%s: froze %d file systems through the guest agent for the snapshot", vm, count);
        } catch (AgentException e) {
            freeze.problem = "the guest agent could not freeze the file systems (" + e.getMessage() + "); the snapshot is crash-consistent";
            LOG.warnf("%s: %s", vm, freeze.problem);
            freeze.thaw(); // a freeze that failed half way may have frozen some
        }
        return freeze;
    }

    List<String> indications() {
        return List.copyOf(indications);
    }

    /** What went wrong with the freeze or the thaw, or null. */
    String problem() {
        return problem;
    }

    @Override
    public void close() {
        if (frozen) {
            thaw();
        }
    }

    private void thaw() {
        AgentException last = null;
        for (int attempt = 1; attempt <= THAW_ATTEMPTS; attempt++) {
            try {
                agent.thaw();
                frozen = false;
                return;
            } catch (AgentException e) {
                last = e;
                LOG.warnf("%s: thawing the file systems, attempt %d of %d: %s", vm, attempt, THAW_ATTEMPTS, e.getMessage());
                try {
                    Thread.sleep(THAW_PAUSE.toMillis());
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        if (frozen) {
            problem = "the guest's file systems may still be frozen: thaw failed " + THAW_ATTEMPTS + " times ("
                    + (last == null ? "interrupted" : last.getMessage()) + "); run 'guest-fsfreeze-thaw' in the guest or restart it";
            LOG.errorf("%s: %s", vm, problem);
        }
    }
}
