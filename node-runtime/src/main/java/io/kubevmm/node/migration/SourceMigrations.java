package io.kubevmm.node.migration;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubevmm.api.v1alpha1.MigrationNodeFacts;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VMMigrationStatus.Phase;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.node.engine.MigrationSample;
import io.kubevmm.node.events.EventRecorder;
import io.kubevmm.node.engine.MigrationTotals;
import io.kubevmm.node.lifecycle.MachineState;
import io.kubevmm.node.lifecycle.NodeVms;
import io.kubevmm.node.lifecycle.OperationIntent;
import io.kubevmm.node.lifecycle.RecoveryDecision;
import io.kubevmm.node.lifecycle.VmRunner;
import io.kubevmm.node.transfer.PeerNodes;
import io.kubevmm.node.transfer.TunnelService;
import io.kubevmm.node.transfer.tunnel.TunnelClient;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The sending end of live migrations: collects the target's tunnel secret, opens the tunnel,
 * runs the migration on the VM's own thread and reports what happened as facts in
 * {@code status.source} (started, progress, completed with QEMU's figures, failed with a reason);
 * it never writes the phase. The operator hands the VMI over to the target once the transfer is
 * complete; only when the VMI names the target does this node let go of its paused copy and the
 * recorded intent, so a restart in between still knows where the guest is. A migration that does
 * not complete leaves the VM as it was.
 */
@ApplicationScoped
public class SourceMigrations {
    private static final Logger LOG = Logger.getLogger(SourceMigrations.class);
    /** How long a completed migration's relayed stream may take to reach the target QEMU in full. */
    private static final java.time.Duration RELAY_DRAIN = java.time.Duration.ofSeconds(30);

    private final KubernetesClient client;
    private final NodeVms vms;
    private final PeerNodes peers;
    private final TunnelService tunnel;
    private final EventRecorder events;
    private final MigrationMetrics metrics;
    private final Set<String> running = ConcurrentHashMap.newKeySet();
    /** Completions reported by this process, by migration uid, kept until the copy here is let go. */
    private final Map<String, MigrationNodeFacts> completed = new ConcurrentHashMap<>();

    SourceMigrations(KubernetesClient client, NodeVms vms, PeerNodes peers, TunnelService tunnel, EventRecorder events,
                     MigrationMetrics metrics) {
        this.client = client;
        this.vms = vms;
        this.peers = peers;
        this.tunnel = tunnel;
        this.events = events;
        this.metrics = metrics;
    }

    public boolean isSending(String uid) {
        return running.contains(uid);
    }

    /** Starts sending the VM of a migration whose target is ready; returns at once. */
    public void start(VMMigration migration) {
        MigrationRef ref = MigrationRef.of(migration);
        if (running.add(ref.uid())) {
            Thread.ofVirtual().name("migration-out " + ref).start(() -> {
                try {
                    send(migration, ref);
                } finally {
                    running.remove(ref.uid());
                }
            });
        }
    }

    /**
     * Whether the VM still holds the recorded intent of this migration, unsettled: in its runner,
     * or, before the VMI reconciler made the runner after a restart, in its state dir.
     */
    public boolean holdsUnsettled(VMMigration migration) {
        MigrationRef ref = MigrationRef.of(migration);
        var intent = vms.find(ref.namespace(), ref.vmName()).flatMap(VmRunner::pendingMigration)
                .or(() -> OperationIntent.read(vms.stateDir(ref.namespace(), ref.vmName())));
        return intent.filter(i -> ref.uid().equals(i.migrationUid())).isPresent();
    }

    /**
     * Lets go of the copy a completed migration left here (paused for good, with its state dir
     * and recorded intent), once the operator has pointed the VMI at the target: never before,
     * since until then this node is where the VMI says the VM is.
     *
     * @return false while the VMI still names this node (ask again shortly)
     */
    public boolean release(VMMigration migration) {
        MigrationRef ref = MigrationRef.of(migration);
        if (running.contains(ref.uid()) || !holdsUnsettled(migration)) {
            return true;
        }
        if (!handedOver(ref, migration.getStatus().getTargetNode())) {
            return false;
        }
        try {
            var runner = vms.find(ref.namespace(), ref.vmName());
            if (runner.isPresent() && runner.get().pendingMigration().filter(i -> ref.uid().equals(i.migrationUid())).isPresent()) {
                runner.get().settleMigration(RecoveryDecision.MigrationAction.HAND_OVER, "the VMI was handed over to "
                        + migration.getStatus().getTargetNode()).get(30, TimeUnit.SECONDS);
            }
            vms.delete(ref.namespace(), ref.vmName()).get(60, TimeUnit.SECONDS);
            completed.remove(ref.uid());
            LOG.infof("migration %s: VMI %s names %s now; the copy here is gone", ref, ref.vmName(), migration.getStatus().getTargetNode());
            return true;
        } catch (ExecutionException | java.util.concurrent.TimeoutException | RuntimeException e) {
            LOG.warnf("migration %s: letting go of the copy here failed (%s); trying again", ref, e.getMessage());
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Whether the VMI names {@code target} (or is gone): the operator has handed the VM over. */
    private boolean handedOver(MigrationRef ref, String target) {
        var vmi = client.resources(VirtualMachineInstance.class).inNamespace(ref.namespace()).withName(ref.vmName()).get();
        return vmi == null || (target != null && target.equals(vmi.getSpec().getNodeName()));
    }

    /**
     * A migration this runtime was sending when it restarted. QEMU may have completed it on its
     * own (the guest then runs on the target), still be sending, or have failed. Where the guest is
     * comes from the target's facts before anything is done (see {@link RecoveryDecision}); then
     * the VMMigration reports what happened and exactly one copy stays, managed.
     *
     * @return false when nothing could be settled yet (ask again shortly)
     */
    public boolean recover(VMMigration migration) {
        MigrationRef ref = MigrationRef.of(migration);
        if (running.contains(ref.uid())) {
            return true;
        }
        String target = migration.getStatus().getTargetNode();
        if (handedOver(ref, target)) {
            return release(migration);
        }
        MigrationNodeFacts done = completed.get(ref.uid());
        if (done != null) {
            // Reported by this process: the operator hands over next. Report again if the write was lost.
            var reported = migration.getStatus().getSource();
            if (reported == null || reported.getCompletedTime() == null) {
                MigrationRef.reportSource(client, migration, done);
            }
            return false;
        }
        if (migration.getStatus().getSource() != null && migration.getStatus().getSource().getCompletedTime() != null) {
            return false; // reported before a restart: waits for the operator's hand-over, the intent still held
        }
        var found = vms.find(ref.namespace(), ref.vmName());
        if (found.isEmpty()) {
            // Its runner (which adopts the emulator) is made when this node's VMI reconciler sees the VMI.
            if (java.nio.file.Files.isDirectory(vms.stateDir(ref.namespace(), ref.vmName()))) {
                return false;
            }
            if (targetFacts(migration, ref, target) == RecoveryDecision.Target.RUNS) {
                completedAfterRestart(migration, ref, target);
            } else {
                finish(migration, Phase.Failed, "VMNotHere", "the node runtime on " + vms.nodeName() + " restarted during the "
                        + "migration and finds no trace of VM " + ref.vmName() + ", and node " + target + " does not run it");
                metrics.ended(Phase.Failed.name());
            }
            return true;
        }
        VmRunner runner = found.get();
        var pending = runner.pendingMigration().filter(i -> ref.uid().equals(i.migrationUid()));
        if (pending.isEmpty()) {
            return recoverUnrecorded(migration, ref, runner, target);
        }
        try {
            RecoveryDecision.Emulator qemu = runner.observeEmulator().get(30, TimeUnit.SECONDS);
            RecoveryDecision.Target facts = targetFacts(migration, ref, target);
            RecoveryDecision.MigrationAction action = RecoveryDecision.migration(qemu, facts);
            LOG.infof("migration %s after a node-runtime restart: source QEMU %s (migration %s), target %s %s: %s", ref,
                    qemu.alive() ? qemu.runState() : "gone", qemu.migrationStatus(), target, facts, action);
            String detail = "the node runtime on " + vms.nodeName() + " restarted during the migration";
            switch (action) {
                case WAIT, CANCEL -> {
                    runner.settleMigration(action, detail).get(30, TimeUnit.SECONDS);
                    return false;
                }
                case HAND_OVER -> {
                    // Settled (the intent dropped) only after the operator has handed the VMI over:
                    // a restart before that must still find the intent, or this node would boot the guest again.
                    completedAfterRestart(migration, ref, target);
                    return false;
                }
                case STAY, RESUME_HERE -> {
                    runner.settleMigration(action, detail).get(30, TimeUnit.SECONDS);
                    Phase was = migration.getStatus().getPhase();
                    if (action == RecoveryDecision.MigrationAction.STAY && (was == Phase.Failed || was == Phase.Cancelled)) {
                        return true; // it already says it ended and the VM stays: that is still the truth
                    }
                    finish(migration, Phase.Failed, "SourceRestarted", detail + "; node " + target + " does not run the guest"
                            + (action == RecoveryDecision.MigrationAction.RESUME_HERE ? " although QEMU had sent all of it, so it "
                            + "was resumed from the copy kept paused here" : "") + "; the VM stays on " + vms.nodeName());
                    metrics.ended(Phase.Failed.name());
                }
                case LOST -> {
                    runner.settleMigration(action, detail + "; neither node holds a usable copy of the guest").get(30, TimeUnit.SECONDS);
                    finish(migration, Phase.Failed, "GuestLost", detail + (qemu.alive() ? " after post-copy switchover" : " and its QEMU is gone")
                            + "; node " + target + " does not run the guest, so its state is lost");
                    metrics.ended(Phase.Failed.name());
                }
            }
            return true;
        } catch (ExecutionException | java.util.concurrent.TimeoutException | RuntimeException e) {
            LOG.warnf("migration %s: settling after a restart failed (%s); trying again", ref, e.getMessage());
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Recovery without a recorded intent (sending had not started, or an older runtime sent it). */
    private boolean recoverUnrecorded(VMMigration migration, MigrationRef ref, VmRunner runner, String target) {
        if (runner.observe().machine() == MachineState.MIGRATED) {
            completedAfterRestart(migration, ref, target);
            return false;
        }
        if (targetFacts(migration, ref, target) == RecoveryDecision.Target.RUNS) {
            return false; // the target claims the guest while this copy runs: never guess which one to end
        }
        runner.abortOutgoingMigration();
        finish(migration, Phase.Failed, "SourceRestarted", "the node runtime on " + vms.nodeName()
                + " restarted during the migration; the VM stays on " + vms.nodeName());
        metrics.ended(Phase.Failed.name());
        return true;
    }

    /** What the target says: its fact in the VMMigration status first, else its node API. */
    private RecoveryDecision.Target targetFacts(VMMigration migration, MigrationRef ref, String target) {
        VMMigration now = ref.current(client);
        VMMigration seen = now == null ? migration : now;
        if (seen.getStatus() != null && seen.getStatus().getTarget() != null && seen.getStatus().getTarget().getCompletedTime() != null) {
            return RecoveryDecision.Target.RUNS;
        }
        return peers.arrival(target, ref.namespace(), ref.vmName(), ref.uid());
    }

    /** The guest runs on the target though QEMU's figures were lost with the node runtime that sent it. */
    private void completedAfterRestart(VMMigration migration, MigrationRef ref, String target) {
        var facts = MigrationRef.fact(vms.nodeName(), "VM " + ref.vmName() + " runs on " + target
                + " (QEMU completed the migration while the node runtime on " + vms.nodeName()
                + " was down; the handover finished after its restart; QEMU's figures were lost with it)");
        facts.setCompletedTime(Instant.now().toString());
        facts.setRemainingBytes(0L);
        if (completed.putIfAbsent(ref.uid(), facts) == null) {
            metrics.ended(Phase.Succeeded.name());
        }
        MigrationRef.reportSource(client, migration, facts);
    }

    private void send(VMMigration migration, MigrationRef ref) {
        String target = migration.getStatus().getTargetNode();
        VmRunner runner = vms.find(ref.namespace(), ref.vmName()).orElse(null);
        if (runner == null) {
            finish(migration, Phase.Failed, "VMNotHere", "VM " + ref.vmName() + " is not on node " + vms.nodeName());
            return;
        }
        MigrationTotals[] totals = new MigrationTotals[1];
        metrics.started();
        List<TunnelClient.Endpoint> endpoints = new ArrayList<>();
        try {
            byte[] secret = peers.collectSecret(target, ref.uid());
            var address = peers.tunnelAddress(target);
            Path dir = runner.config().stateDir();
            OutgoingRun.Stream stream;
            TunnelClient.Endpoint memoryRelay = null;
            int channels = MigrationStreams.multifdChannels(migration.getSpec());
            boolean handOff = !MigrationStreams.ownConnections(migration.getSpec(), vms.engine())
                    && MigrationStreams.handOff(tunnel.tls(), vms.engine());
            LOG.infof("migration %s: memory stream leaves by %s%s", ref, MigrationStreams.mode(handOff),
                    MigrationStreams.ownConnectionsNote(migration.getSpec(), vms.engine()));
            if (handOff) {
                stream = MigrationStreams.outgoing(address, ref.uid(), secret);
            } else {
                TunnelClient.Endpoint relay = MigrationStreams.relayEndpoint(dir.resolve("outgoing.sock"), address, ref.uid(), secret,
                        tunnel.tls());
                endpoints.add(relay);
                memoryRelay = relay;
                stream = MigrationStreams.outgoing(relay, channels,
                        MigrationStreams.postcopyPreempt(migration.getSpec(), vms.engine()));
            }
            Path disks = null;
            if (runner.config().hasBlockState()) {
                endpoints.add(TunnelClient.listen(dir.resolve("outgoing-nbd.sock"), address, ref.uid(), "nbd", secret, tunnel.tls()));
                disks = dir.resolve("outgoing-nbd.sock");
            }
            OutgoingRun run = new OutgoingRun(ref.toString(), OutgoingRun.settings(migration), stream, disks,
                    () -> ref.stopReason(client), () -> endpoints.stream().map(TunnelClient.Endpoint::lastError)
                    .filter(java.util.Objects::nonNull).findFirst().orElse(null),
                    new SourceProgress(client, events, vms.nodeName(), migration));
            runner.migrateOut(OperationIntent.migrateOut(ref.name(), ref.uid(), target, true),
                    source -> totals[0] = run.run(source.outgoing())).get();
            if (memoryRelay != null && !memoryRelay.drain(RELAY_DRAIN)) {
                LOG.warnf("migration %s: the relayed memory stream still had %d connection(s) open %s after QEMU completed",
                        ref, memoryRelay.openConnections(), RELAY_DRAIN);
            }
        } catch (ExecutionException e) {
            fail(migration, runner, e.getCause());
            return;
        } catch (IOException | RuntimeException e) {
            fail(migration, runner, e);
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail(migration, runner, e);
            return;
        } finally {
            endpoints.forEach(TunnelClient.Endpoint::close);
        }
        // QEMU completed: the guest runs on the target. From here on nothing may report a failure.
        succeed(migration, ref, totals[0], target);
    }

    private void succeed(VMMigration migration, MigrationRef ref, MigrationTotals totals, String target) {
        var facts = MigrationRef.fact(vms.nodeName(), "VM " + migration.getSpec().getVmName() + " moved from " + vms.nodeName()
                + " to " + target);
        facts.setCompletedTime(Instant.now().toString());
        facts.setDowntimeMillis(totals.downtimeMillis());
        facts.setTotalTimeMillis(totals.totalTimeMillis());
        facts.setTransferredBytes(totals.transferredBytes());
        facts.setIterations(totals.iterations());
        facts.setRemainingBytes(0L);
        completed.put(ref.uid(), facts);
        metrics.succeeded(totals);
        try {
            MigrationRef.reportSource(client, migration, facts);
        } catch (RuntimeException e) {
            LOG.warnf("migration %s: cannot report the completion yet (%s); the reconciler reports it again", ref, e.getMessage());
        }
    }

    private void fail(VMMigration migration, VmRunner runner, Throwable cause) {
        Phase phase = cause instanceof MigrationStopped s ? s.phase() : Phase.Failed;
        String reason = cause instanceof MigrationStopped s ? s.reason() : "TransferFailed";
        String message = cause.getMessage();
        if (runner.observe().machine() == MachineState.FAILED) {
            phase = Phase.Failed;
            reason = "FailedAfterSwitchover";
            message = message + "; the guest had switched to post-copy and is lost (its VMI is Failed)";
        } else if (!(cause instanceof MigrationStopped)) {
            message = message + "; the VM keeps running on " + vms.nodeName();
        }
        LOG.warnf("migration %s/%s: %s", migration.getMetadata().getNamespace(), migration.getMetadata().getName(), message);
        finish(migration, phase, reason, message);
        metrics.ended(phase.name());
    }

    /** Reports that this node gave up; the operator derives Failed or Cancelled from it. */
    private void finish(VMMigration migration, Phase phase, String reason, String message) {
        MigrationRef.reportSource(client, migration, MigrationRef.failure(vms.nodeName(), reason, message, phase == Phase.Cancelled));
    }
}
