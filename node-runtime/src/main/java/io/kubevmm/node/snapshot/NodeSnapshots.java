package io.kubevmm.node.snapshot;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubevmm.api.status.StatusPatch;
import io.kubevmm.api.v1alpha1.SnapshotArtifact;
import io.kubevmm.api.v1alpha1.SnapshotNodeFacts;
import io.kubevmm.api.v1alpha1.VMSnapshot;
import io.kubevmm.api.v1alpha1.VMSnapshotSpec;
import io.kubevmm.api.v1alpha1.VMSnapshotStatus;
import io.kubevmm.api.v1alpha1.VMSnapshotStatus.Phase;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.node.config.NodeConfig;
import io.kubevmm.node.events.EventRecorder;
import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.lifecycle.NodeVms;
import io.kubevmm.node.lifecycle.VmRunner;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;

/**
 * This node's side of VMSnapshots: takes the snapshots the operator handed to it (label
 * {@code kubevmm.io/node}) on the VM's own thread, stores them in the node's snapshot store, and
 * reports facts in {@code status.node}: started, then stored with what was measured, or failed with
 * the reason. The operator derives the phase from them; this node never writes it. A snapshot
 * that fails, or that a node-runtime restart interrupts, never becomes Ready, leaves nothing in
 * the store and leaves the VM as it was.
 */
@ApplicationScoped
public class NodeSnapshots {
    private static final Logger LOG = Logger.getLogger(NodeSnapshots.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final KubernetesClient client;
    private final NodeVms vms;
    private final Snapshotter snapshotter;
    private final EventRecorder events;
    private final SnapshotMetrics metrics;
    private final io.kubevmm.node.transfer.PeerNodes peers;
    private final Set<String> taking = ConcurrentHashMap.newKeySet();

    NodeSnapshots(KubernetesClient client, NodeVms vms, NodeConfig config, EventRecorder events, SnapshotMetrics metrics,
                  io.kubevmm.node.transfer.PeerNodes peers) {
        this.client = client;
        this.peers = peers;
        this.vms = vms;
        this.snapshotter = new Snapshotter(vms.engine(), new SnapshotStore(config.stateDir().resolve("snapshots")));
        this.events = events;
        this.metrics = metrics;
    }

    void onStart(@Observes StartupEvent start) {
        try {
            var removed = snapshotter.store().cleanupIncomplete();
            if (!removed.isEmpty()) {
                LOG.infof("Removed %d snapshot(s) an earlier node runtime did not finish: %s", removed.size(), removed);
            }
        } catch (EngineException e) {
            LOG.warnf("Cannot clean the snapshot store: %s", e.getMessage());
        }
    }

    public Snapshotter snapshotter() {
        return snapshotter;
    }

    /** The store's name for a VMSnapshot. */
    static String storeName(VMSnapshot snapshot) {
        return snapshot.getMetadata().getNamespace() + "_" + snapshot.getMetadata().getName();
    }

    public boolean isTaking(VMSnapshot snapshot) {
        return taking.contains(snapshot.getMetadata().getUid());
    }

    /** Starts taking a snapshot handed to this node; returns at once. */
    public void take(VMSnapshot snapshot) {
        if (taking.add(snapshot.getMetadata().getUid())) {
            Thread.ofVirtual().name("snapshot " + storeName(snapshot)).start(() -> {
                try {
                    run(snapshot);
                } finally {
                    taking.remove(snapshot.getMetadata().getUid());
                }
            });
        }
    }

    /** Whether this node already reported that it started this snapshot. */
    static boolean started(VMSnapshot snapshot) {
        return snapshot.getStatus() != null && snapshot.getStatus().getNode() != null
                && snapshot.getStatus().getNode().getStartTime() != null;
    }

    /** Whether this node already reported how this snapshot ended. */
    static boolean ended(VMSnapshot snapshot) {
        var node = snapshot.getStatus() == null ? null : snapshot.getStatus().getNode();
        return node != null && (node.getCompletedTime() != null || node.getFailedTime() != null);
    }

    /**
     * A snapshot this node reported as started that no thread here is taking: a node runtime restarted while
     * taking it. Complete in the store (it finished just before the restart) → Ready; otherwise
     * its partial files were removed at startup → Failed.
     */
    public void recover(VMSnapshot snapshot) {
        try {
            var stored = snapshotter.store().find(storeName(snapshot));
            if (stored.isPresent()) {
                ready(snapshot, stored.get(), null); // what the guest agent did is not known any more
                return;
            }
        } catch (EngineException e) {
            LOG.warnf("Cannot read snapshot %s from the store: %s", storeName(snapshot), e.getMessage());
        }
        fail(snapshot, "Interrupted", "the node runtime on " + vms.nodeName()
                + " restarted while taking the snapshot; its partial files were removed and the VM was left as it was");
    }

    /** Removes a deleted VMSnapshot's artifacts; the VM's disks keep every layer they still need. */
    public void delete(VMSnapshot snapshot) throws EngineException {
        String name = storeName(snapshot);
        VmRunner runner = vms.find(snapshot.getMetadata().getNamespace(), snapshot.getSpec().getVmName()).orElse(null);
        if (runner == null) {
            snapshotter.delete(name, null, null);
            return;
        }
        try {
            runner.exclusive((emulator, config) -> snapshotter.delete(name, emulator, emulator == null ? config : null)).get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof EngineException ee ? ee
                    : new EngineException(EngineException.Reason.OperationFailed, e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException(EngineException.Reason.OperationFailed, "interrupted while deleting " + name, e);
        }
    }

    /** Where a VMI's restore stands: running (null), or why it failed. */
    public record RestoreOutcome(boolean done, String failure) { }

    private final java.util.Map<String, RestoreOutcome> restores = new ConcurrentHashMap<>();

    /**
     * Starts the emulator of a VMI that asks to start from a snapshot ({@code spec.restoreFrom})
     * from this node's store, paused, and hands it to the VM's runner as if it had arrived: the
     * guest continues from the snapshot's instant, no boot. Returns at once; {@link #restoreOutcome}
     * tells how it went. A corrupt or truncated artifact fails it with the file named.
     */
    public void restore(VirtualMachineInstance vmi, io.kubevmm.node.engine.VmConfig config) {
        String uid = vmi.getMetadata().getUid();
        if (restores.putIfAbsent(uid, new RestoreOutcome(false, null)) != null) {
            return;
        }
        String namespace = vmi.getMetadata().getNamespace();
        String snapshotName = vmi.getSpec().getRestoreFrom().getName();
        String name = namespace + "_" + snapshotName;
        // The restored emulator is this thread's until the VM's runner takes it: no adoption meanwhile.
        if (!vms.reserveArrival(namespace, vmi.getMetadata().getName())) {
            restores.put(uid, new RestoreOutcome(true, "VM " + vmi.getMetadata().getName() + " already runs on node " + vms.nodeName()));
            return;
        }
        Thread.ofVirtual().name("restore " + name + " -> " + config.id()).start(() -> {
            long t0 = System.nanoTime();
            try {
                if (snapshotter.store().find(name).isEmpty()) {
                    fetch(namespace, snapshotName, name);
                }
                boolean fullState = snapshotter.store().get(name).manifest().type() == SnapshotType.FullState;
                var emulator = snapshotter.restore(name, config);
                // From full state the guest continues where it was (ready then); from disks it boots.
                vms.takeOver(namespace, vmi.getMetadata().getName(), config, emulator, fullState);
                metrics.restored(java.time.Duration.ofNanos(System.nanoTime() - t0));
                events.normal(vmi, "Restored", "started from VMSnapshot " + snapshotName + " in "
                        + (System.nanoTime() - t0) / 1_000_000 + " ms; the guest continues from the snapshot's instant");
                restores.put(uid, new RestoreOutcome(true, null));
            } catch (EngineException | RuntimeException e) {
                String message = (e instanceof CompletionException && e.getCause() != null ? e.getCause() : e).getMessage();
                LOG.warnf("Restore of %s from %s failed: %s", config.id(), name, message);
                events.warning(vmi, "RestoreFailed", message);
                vms.releaseArrival(namespace, vmi.getMetadata().getName());
                restores.put(uid, new RestoreOutcome(true, message));
            }
        });
    }

    /**
     * Copies a snapshot held by another node into this node's store over that node's authenticated
     * API; every artifact is checked against the manifest's size and SHA-256 before it is used.
     */
    private void fetch(String namespace, String snapshotName, String name) throws EngineException {
        VMSnapshot snapshot = client.resources(VMSnapshot.class).inNamespace(namespace).withName(snapshotName).get();
        String holder = snapshot == null || snapshot.getStatus() == null ? null : snapshot.getStatus().getNodeName();
        if (holder == null || holder.equals(vms.nodeName())) {
            throw new EngineException(EngineException.Reason.StateUnusable, "VMSnapshot " + snapshotName
                    + " is not in the snapshot store of node " + vms.nodeName() + (snapshot == null ? " and no longer exists" : ""));
        }
        long t0 = System.nanoTime();
        try {
            SnapshotManifest manifest;
            try (var in = peers.snapshotManifest(holder, name)) {
                manifest = MANIFEST_JSON.readValue(in, SnapshotManifest.class);
            }
            snapshotter.store().importSnapshot(manifest, file -> peers.snapshotFile(holder, name, file));
            LOG.infof("Fetched snapshot %s (%d bytes) from node %s in %d ms, checksums verified", name, manifest.sizeBytes(), holder,
                    (System.nanoTime() - t0) / 1_000_000);
        } catch (java.io.IOException | RuntimeException e) {
            throw new EngineException(EngineException.Reason.StateUnusable, "cannot fetch VMSnapshot " + snapshotName
                    + " from node " + holder + ": " + e.getMessage(), e);
        }
    }

    private static final ObjectMapper MANIFEST_JSON = com.fasterxml.jackson.databind.json.JsonMapper.builder()
            .addModule(new com.fasterxml.jackson.datatype.jsr310.JavaTimeModule()).build();

    /** Empty when no restore was started for this VMI. */
    public java.util.Optional<RestoreOutcome> restoreOutcome(VirtualMachineInstance vmi) {
        return java.util.Optional.ofNullable(restores.get(vmi.getMetadata().getUid()));
    }

    private void run(VMSnapshot cached) {
        // The informer's copy may lag behind a snapshot this runtime already finished: ask the API server.
        VMSnapshot snapshot = client.resources(VMSnapshot.class).inNamespace(cached.getMetadata().getNamespace())
                .withName(cached.getMetadata().getName()).get();
        if (snapshot == null || snapshot.getStatus() == null || started(snapshot)
                || (snapshot.getStatus().getPhase() != null && snapshot.getStatus().getPhase() != Phase.Pending)) {
            return;
        }
        String namespace = snapshot.getMetadata().getNamespace();
        String vmName = snapshot.getSpec().getVmName();
        SnapshotType type = snapshot.getSpec().getType() == VMSnapshotSpec.Type.Disk ? SnapshotType.Disk : SnapshotType.FullState;
        VmRunner runner = vms.find(namespace, vmName).orElse(null);
        if (runner == null) {
            fail(snapshot, "VMNotHere", "VM " + vmName + " does not run on node " + vms.nodeName() + " any more");
            return;
        }
        SnapshotNodeFacts progress = fact("taking a " + type + " snapshot of VM " + vmName);
        progress.setStartTime(Instant.now().toString());
        report(snapshot, progress);
        VirtualMachineInstance vmi = client.resources(VirtualMachineInstance.class).inNamespace(namespace).withName(vmName).get();
        SnapshotDetails details = new SnapshotDetails(namespace + "_" + vmName, vmUid(vmi),
                vmi == null ? null : JSON.valueToTree(vmi.getSpec()), type, Instant.now());
        String name = storeName(snapshot);
        GuestFreeze[] freeze = new GuestFreeze[1];
        try {
            StoredSnapshot stored = runner.exclusive((emulator, config) -> {
                if (type == SnapshotType.FullState && emulator == null) {
                    throw new EngineException(EngineException.Reason.OperationFailed, "VM " + vmName
                            + " has no running emulator (stopped or suspended to disk); a FullState snapshot needs its memory");
                }
                // Frozen just before the disks switch (and, FullState, the copy-on-write capture is armed); thawed whatever happens.
                // Only a running guest's agent answers (a paused one's would time out).
                boolean running = emulator != null && runner.observe().machine() == io.kubevmm.node.lifecycle.MachineState.RUNNING;
                try (GuestFreeze frozen = GuestFreeze.freeze(runner.guestAgent(), config.id(), running)) {
                    freeze[0] = frozen;
                    if (type == SnapshotType.Disk) {
                        return emulator != null ? snapshotter.snapshotDisks(name, emulator, details)
                                : snapshotter.snapshotDisks(name, config, details);
                    }
                    // Thawed as soon as the instant is fixed, not after the memory is written.
                    return snapshotter.snapshotFullState(name, emulator, details, frozen::close);
                }
            }).join();
            ready(snapshot, stored, freeze[0]);
        } catch (CompletionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            LOG.warnf("Snapshot %s failed: %s", name, cause.getMessage());
            fail(snapshot, "SnapshotFailed", cause.getMessage() + "; the VM was left as it was");
        }
    }

    private void ready(VMSnapshot snapshot, StoredSnapshot stored, GuestFreeze freeze) {
        var m = stored.manifest();
        SnapshotNodeFacts facts = fact(m.type() + " snapshot stored on " + vms.nodeName()
                + (freeze == null || freeze.problem() == null ? "" : "; " + freeze.problem()));
        facts.setIndications(freeze == null ? null : freeze.indications());
        if (freeze != null && freeze.problem() != null) {
            events.warning(snapshot, "GuestFreezeProblem", freeze.problem());
        }
        facts.setCompletedTime(Instant.now().toString());
        facts.setSizeBytes(m.sizeBytes());
        facts.setPauseMillis(m.pauseMillis());
        facts.setDurationMillis(m.durationMillis());
        facts.setCreationTime(m.createdAt().toString());
        facts.setContents(m.artifacts().stream().map(a -> {
            SnapshotArtifact artifact = new SnapshotArtifact();
            artifact.setName(a.file());
            artifact.setPath(SnapshotStore.relativePath(stored, a.file())); // never a host path
            artifact.setSizeBytes(a.sizeBytes());
            artifact.setSha256(a.sha256());
            return artifact;
        }).toList());
        report(snapshot, facts);
        metrics.taken(stored);
    }

    private void fail(VMSnapshot snapshot, String reason, String message) {
        SnapshotNodeFacts facts = fact(message);
        facts.setFailedTime(Instant.now().toString());
        facts.setFailureReason(reason);
        report(snapshot, facts);
        metrics.outcome("Failed");
    }

    private SnapshotNodeFacts fact(String message) {
        SnapshotNodeFacts facts = new SnapshotNodeFacts();
        facts.setNode(vms.nodeName());
        facts.setMessage(message);
        return facts;
    }

    /** Merges {@code facts} into {@code status.node}, the block only this node writes. */
    private void report(VMSnapshot snapshot, SnapshotNodeFacts facts) {
        VMSnapshotStatus status = new VMSnapshotStatus();
        status.setNode(facts);
        StatusPatch.status(client, snapshot, status);
    }

    private static String vmUid(VirtualMachineInstance vmi) {
        if (vmi == null) {
            return null;
        }
        List<io.fabric8.kubernetes.api.model.OwnerReference> owners = vmi.getMetadata().getOwnerReferences();
        return owners == null || owners.isEmpty() ? vmi.getMetadata().getUid() : owners.getFirst().getUid();
    }
}
