package io.kubevmm.node.ha;

import io.kubevmm.node.config.NodeConfig;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Files;

/**
 * The node runtime's own fencing, every second: once this node cannot prove it holds its Lease
 * ({@link LeaseHold}), every guest marked for fencing is frozen and killed, and none boots (the
 * runners ask {@link LeaseHold} before a boot). It also keeps the fence guard running while there
 * is a heartbeat to watch, and at a clean shutdown stops it unless highly available guests keep
 * running (they stay guarded: killed if no node runtime renews the Lease in time).
 */
@ApplicationScoped
public class SelfFence {
    private static final Logger LOG = Logger.getLogger(SelfFence.class);

    private final LeaseHold lease;
    private final FenceGuard guard;
    private final FencedGuests guests;
    private volatile boolean guardStarted;

    SelfFence(LeaseHold lease, FenceGuard guard, NodeConfig config) {
        this.lease = lease;
        this.guard = guard;
        this.guests = new FencedGuests(config.stateDir());
    }

    /**
     * Whether a guest marked for fencing may boot now: the Lease is held, and the fence guard runs
     * (started here at once if it does not yet), so the guest is guarded from its first moment.
     */
    public boolean mayBootFencedGuest() {
        if (!lease.mayRunFencedGuests()) {
            return false;
        }
        keepGuardRunning();
        return guard.running().isPresent();
    }

    @Scheduled(every = "1s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void check() {
        if (!lease.mayRunFencedGuests()) {
            var running = guests.running();
            if (!running.isEmpty()) {
                String why = lease.whyNot();
                for (var guest : running) {
                    FencedGuests.fence(guest);
                    LOG.warnf("fenced %s: killed QEMU %d (highAvailability Restart) because %s; it does not boot here "
                            + "again until this node holds its Lease and the VM is still placed here",
                            guest.dir().getFileName(), guest.qemu().pid(), why);
                }
            }
        }
        keepGuardRunning();
    }

    /**
     * Only while the Lease is held: otherwise no marked guest runs here (this class kills them and
     * the runners boot none), and a guard would find a stale heartbeat, nothing to do, and exit.
     */
    private synchronized void keepGuardRunning() {
        if (!lease.mayRunFencedGuests() || !Files.exists(lease.heartbeatFile()) || guard.running().isPresent()) {
            return;
        }
        try {
            if (guardStarted) {
                LOG.infof("the fence guard is not running (it exits after fencing, or was killed); starting it again");
            }
            guard.start();
            guardStarted = true;
        } catch (IOException e) {
            LOG.errorf("cannot start the fence guard: %s; highly available guests are fenced only while this node runtime runs",
                    e.getMessage());
        }
    }

    void onStop(@Observes ShutdownEvent event) {
        var running = guests.running();
        if (running.isEmpty()) {
            lease.removeHeartbeat();
            guard.stop();
        } else {
            LOG.infof("the fence guard keeps watching %d highly available guest(s): they are killed %d s after the last Lease "
                    + "renewal unless a node runtime renews it", running.size(), lease.fenceAfter().toSeconds());
        }
    }
}
