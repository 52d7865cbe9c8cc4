package io.kubevmm.node.migration;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.status.StatusPatch;
import io.kubevmm.api.v1alpha1.Labels;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VMMigrationStatus;
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
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The sending end of live migrations: collects the target's tunnel secret, opens the tunnel,
 * runs the migration on the VM's own thread, then hands the VMI over to the target node and
 * lets go of the local copy. A migration that does not complete leaves the VM as it was.
 */
@ApplicationScoped
public class SourceMigrations {
    private static final Logger LOG = Logger.getLogger(SourceMigrations.class);
    private static final long PROGRESS_EVERY_NANOS = 1_000_000_000L;
    /** How long a completed migration's relayed stream may take to reach the target QEMU in full. */
    private static final java.time.Duration RELAY_DRAIN = java.time.Duration.ofSeconds(30);

    private final KubernetesClient client;
    private final NodeVms vms;
    private final PeerNodes peers;
    private final TunnelService tunnel;
    private final EventRecorder events;
    private final MigrationMetrics metrics;
    private final Set<String> running = ConcurrentHashMap.newKeySet();

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
        var intent = vms.find(ref.namespace(), ref.vmName()).map(VmRunner::pendingMigration)
                .orElseGet(() -> io.kubevmm.node.lifecycle.OperationIntent.read(vms.stateDir(ref.namespace(), ref.vmName())));
        return intent.filter(i -> ref.uid().equals(i.migrationUid())).isPresent();
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
        var found = vms.find(ref.namespace(), ref.vmName());
        if (found.isEmpty()) {
            // Its runner (which adopts the emulator) is made when this node's VMI reconciler sees the VMI.
            if (java.nio.file.Files.isDirectory(vms.stateDir(ref.namespace(), ref.vmName()))) {
                return false;
            }
            if (targetFacts(migration, ref, target) == RecoveryDecision.Target.RUNS) {
                handOver(ref, target);
                succeedAfterRestart(migration, ref, target);
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
                    handOver(ref, target);
                    runner.settleMigration(action, detail).get(30, TimeUnit.SECONDS);
                    succeedAfterRestart(migration, ref, target);
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
            handOver(ref, target);
            succeedAfterRestart(migration, ref, target);
            return true;
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

    /** What the target says: its condition in the VMMigration status first, else its node API. */
    private RecoveryDecision.Target targetFacts(VMMigration migration, MigrationRef ref, String target) {
        VMMigration now = ref.current(client);
        VMMigration seen = now == null ? migration : now;
        if (seen.getStatus() != null && Conditions.isTrue(seen.getStatus().getConditions(), "TargetRunning")) {
            return RecoveryDecision.Target.RUNS;
        }
        return peers.arrival(target, ref.namespace(), ref.vmName(), ref.uid());
    }

    private void succeedAfterRestart(VMMigration migration, MigrationRef ref, String target) {
        VMMigrationStatus status = new VMMigrationStatus();
        status.setPhase(Phase.Succeeded);
        status.setRemainingBytes(0L);
        status.setCompletionTime(Instant.now().toString());
        StatusPatch.status(client, migration, status);
        events.normal(migration, "Succeeded", "VM " + ref.vmName() + " runs on " + target
                + " (QEMU completed the migration while the node runtime on " + vms.nodeName()
                + " was down; the handover finished after its restart; QEMU's figures were lost with it)");
        metrics.ended(Phase.Succeeded.name());
        vms.delete(ref.namespace(), ref.vmName());
    }

    private void send(VMMigration migration, MigrationRef ref) {
        String target = migration.getStatus().getTargetNode();
        VmRunner runner = vms.find(ref.namespace(), ref.vmName()).orElse(null);
        if (runner == null) {
            finish(migration, Phase.Failed, "VMNotHere", "VM " + ref.vmName() + " is not on node " + vms.nodeName());
            return;
        }
        metrics.started();
        List<TunnelClient.Endpoint> endpoints = new ArrayList<>();
        try {
            byte[] secret = peers.collectSecret(target, ref.uid());
            var address = peers.tunnelAddress(target);
            Path dir = runner.config().stateDir();
            OutgoingRun.Stream stream;
            TunnelClient.Endpoint memoryRelay = null;
            int channels = MigrationStreams.multifdChannels(migration.getSpec());
            boolean handOff = !MigrationStreams.ownConnections(migration.getSpec(), vms.engine().capabilities())
                    && MigrationStreams.handOff(tunnel.tls(), vms.engine());
            LOG.infof("migration %s: memory stream leaves by %s%s", ref, MigrationStreams.mode(handOff),
                    MigrationStreams.ownConnectionsNote(migration.getSpec(), vms.engine().capabilities()));
            if (handOff) {
                stream = MigrationStreams.outgoing(address, ref.uid(), secret);
            } else {
                TunnelClient.Endpoint relay = MigrationStreams.relayEndpoint(dir.resolve("outgoing.sock"), address, ref.uid(), secret,
                        tunnel.tls());
                endpoints.add(relay);
                memoryRelay = relay;
                stream = MigrationStreams.outgoing(relay, channels,
                        MigrationStreams.postcopyPreempt(migration.getSpec(), vms.engine().capabilities()));
            }
            Path disks = null;
            if (!runner.config().disks().isEmpty()) {
                endpoints.add(TunnelClient.listen(dir.resolve("outgoing-nbd.sock"), address, ref.uid(), "nbd", secret, tunnel.tls()));
                disks = dir.resolve("outgoing-nbd.sock");
            }
            OutgoingRun run = new OutgoingRun(ref.toString(), OutgoingRun.settings(migration), stream, disks,
                    () -> ref.stopReason(client), () -> endpoints.stream().map(TunnelClient.Endpoint::lastError)
                    .filter(java.util.Objects::nonNull).findFirst().orElse(null),
                    new StatusProgress(migration));
            MigrationTotals[] totals = new MigrationTotals[1];
            runner.migrateOut(OperationIntent.migrateOut(ref.name(), ref.uid(), target, true),
                    source -> totals[0] = run.run(source.outgoing())).get();
            if (memoryRelay != null && !memoryRelay.drain(RELAY_DRAIN)) {
                LOG.warnf("migration %s: the relayed memory stream still had %d connection(s) open %s after QEMU completed",
                        ref, memoryRelay.openConnections(), RELAY_DRAIN);
            }
            handOver(ref, target);
            succeed(migration, totals[0], target);
            vms.delete(ref.namespace(), ref.vmName());
        } catch (ExecutionException e) {
            fail(migration, runner, e.getCause());
        } catch (IOException | RuntimeException e) {
            fail(migration, runner, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail(migration, runner, e);
        } finally {
            endpoints.forEach(TunnelClient.Endpoint::close);
        }
    }

    /** Points the VMI at the target: its node runtime already holds the running guest and takes it from here. */
    private void handOver(MigrationRef ref, String target) {
        String patch = "{\"metadata\":{\"labels\":{\"" + Labels.NODE + "\":\"" + target + "\"}},\"spec\":{\"nodeName\":\"" + target + "\"}}";
        KubernetesClientException last = null;
        for (int attempt = 0; attempt < 20; attempt++) {
            try {
                client.resources(VirtualMachineInstance.class).inNamespace(ref.namespace()).withName(ref.vmName())
                        .patch(PatchContext.of(PatchType.JSON_MERGE), patch);
                return;
            } catch (KubernetesClientException e) {
                last = e;
                LOG.warnf("handover of %s to %s: %s; retrying", ref.vmName(), target, e.getMessage());
                try {
                    Thread.sleep(500L * (attempt + 1));
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        throw new IllegalStateException("cannot point VMI " + ref.vmName() + " at " + target, last);
    }

    private void succeed(VMMigration migration, MigrationTotals totals, String target) {
        VMMigrationStatus status = new VMMigrationStatus();
        status.setPhase(Phase.Succeeded);
        status.setDowntimeMillis(totals.downtimeMillis());
        status.setTotalTimeMillis(totals.totalTimeMillis());
        status.setTransferredBytes(totals.transferredBytes());
        status.setIterations(totals.iterations());
        status.setRemainingBytes(0L);
        status.setCompletionTime(Instant.now().toString());
        StatusPatch.status(client, migration, status);
        events.normal(migration, "Succeeded", "VM " + migration.getSpec().getVmName() + " moved from " + vms.nodeName() + " to "
                + target + ": downtime " + totals.downtimeMillis() + " ms, total " + totals.totalTimeMillis() + " ms, "
                + (totals.transferredBytes() >> 20) + " MiB in " + totals.iterations() + " passes");
        metrics.succeeded(totals);
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

    private void finish(VMMigration migration, Phase phase, String reason, String message) {
        VMMigrationStatus status = new VMMigrationStatus();
        status.setPhase(phase);
        status.setFailureReason(phase == Phase.Failed ? reason + ": " + message : null);
        status.setCompletionTime(Instant.now().toString());
        StatusPatch.status(client, migration, status);
        if (phase == Phase.Cancelled) {
            events.normal(migration, reason, message);
        } else {
            events.warning(migration, reason, message);
        }
    }

    /** Progress into the VMMigration status, at most once a second, and Events for policy decisions. */
    private final class StatusProgress implements OutgoingRun.Progress {
        private final VMMigration migration;
        private long lastWrite;
        private boolean wasPostCopy;

        StatusProgress(VMMigration migration) {
            this.migration = migration;
        }

        @Override
        public void transferStarted() {
            VMMigrationStatus status = new VMMigrationStatus();
            status.setPhase(Phase.Running);
            status.setMode("PreCopy");
            status.setStartTime(Instant.now().toString());
            StatusPatch.status(client, migration, status);
            events.normal(migration, "Running", "sending VM " + migration.getSpec().getVmName() + " to "
                    + migration.getStatus().getTargetNode());
        }

        @Override
        public void sample(MigrationSample sample, boolean postCopy) {
            boolean switched = postCopy && !wasPostCopy;
            wasPostCopy = postCopy;
            if (!switched && System.nanoTime() - lastWrite < PROGRESS_EVERY_NANOS) {
                return;
            }
            lastWrite = System.nanoTime();
            VMMigrationStatus status = new VMMigrationStatus();
            status.setPhase(postCopy ? Phase.PostCopy : Phase.Running);
            status.setMode(postCopy ? "PostCopy" : "PreCopy");
            status.setIterations(sample.iterations());
            status.setTransferredBytes(sample.transferredBytes());
            status.setRemainingBytes(sample.remainingBytes());
            status.setDirtyRateBytesPerSecond(sample.dirtyRateBytesPerSecond());
            status.setThrottlePercent(sample.throttlePercent());
            try {
                StatusPatch.status(client, migration, status);
            } catch (KubernetesClientException e) {
                LOG.debugf("progress of %s not written: %s", migration.getMetadata().getName(), e.getMessage());
            }
        }

        @Override
        public void decision(String reason, String what) {
            events.normal(migration, what, reason);
        }
    }
}
