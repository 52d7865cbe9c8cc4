package io.kubevmm.operator.vm;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.kubevmm.api.status.ConditionTypes;
import io.kubevmm.api.status.EventWriter;
import io.kubevmm.api.status.StatusPatch;
import io.kubevmm.api.v1alpha1.SpecDefaults;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineStatus;
import io.kubevmm.api.v1alpha1.Labels;
import io.kubevmm.api.v1alpha1.OverlayAttachment;
import io.kubevmm.api.v1alpha1.RestoreSource;
import io.kubevmm.api.v1alpha1.VmState;
import io.kubevmm.api.validation.FieldError;
import io.kubevmm.api.validation.SpecValidator;
import io.kubevmm.operator.network.NetworkAllocator;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.kubevmm.api.v1alpha1.VMNode;
import io.kubevmm.operator.ha.Failover;
import io.kubevmm.operator.ha.NodeHealth;
import io.kubevmm.operator.scheduling.NodeInventory;
import io.kubevmm.operator.scheduling.Scheduler;
import io.micrometer.core.instrument.MeterRegistry;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Turns a VirtualMachine into an instance on a node: validate, allocate its overlay address
 * ({@link VmNetworking}, network.mode overlay), schedule, create or update the VMI for spec.state
 * (none for Defined), roll the VMI's status up. Deleting the VM deletes the VMI, waits until its
 * node reports the QEMU gone, then releases the VM's addresses.
 */
@ControllerConfiguration(name = VirtualMachineReconciler.NAME)
public class VirtualMachineReconciler implements Reconciler<VirtualMachine>, Cleaner<VirtualMachine> {
    static final String NAME = "vm";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long UNSCHEDULABLE_RETRY_MILLIS = 5000;
    private static final long STATUS_RETRY_MILLIS = 5000;
    /** Condition reasons whose arrival (or new message) is a Warning Event. */
    private static final Set<String> WARNED_REASONS = Set.of("Unschedulable", "InvalidSpec",
            "NetworkNotFound", "NetworkInvalid", "NetworkFull", "AllocationConflict");

    private final KubernetesClient client;
    private final NodeInventory inventory;
    private final Scheduler scheduler;
    private final EventWriter events;
    private final MeterRegistry metrics;
    private final VmNetworking networking;
    private final NodeHealth health;
    private final FailoverMove failovers;

    VirtualMachineReconciler(KubernetesClient client, NodeInventory inventory, MeterRegistry metrics, NodeHealth health,
                             @ConfigProperty(name = "kubevmm.operator.scheduling", defaultValue = "spread") String strategy,
                             @ConfigProperty(name = "kubevmm.operator.instance", defaultValue = "kubevmm-operator") String instance) {
        this.client = client;
        this.inventory = inventory;
        this.scheduler = new Scheduler(Scheduler.Strategy.valueOf(strategy.toUpperCase()));
        this.events = new EventWriter(client, "kubevmm-operator", instance);
        this.metrics = metrics;
        this.networking = new VmNetworking(new NetworkAllocator(client));
        this.health = health;
        this.failovers = new FailoverMove(client);
    }

    @Override
    public List<EventSource<?, VirtualMachine>> prepareEventSources(EventSourceContext<VirtualMachine> context) {
        // A VMI's status change (written by its node) re-reconciles the VM that owns it.
        InformerEventSource<VirtualMachineInstance, VirtualMachine> instances = new InformerEventSource<>(
                InformerEventSourceConfiguration.from(VirtualMachineInstance.class, VirtualMachine.class).build(), context);
        // A node declared lost (or back) re-reconciles the VMs placed on it: what happens to them is decided here.
        InformerEventSource<VMNode, VirtualMachine> nodes = new InformerEventSource<>(
                InformerEventSourceConfiguration.from(VMNode.class, VirtualMachine.class)
                        .withSecondaryToPrimaryMapper(node -> instances.list(v -> v.getSpec() != null
                                        && node.getMetadata().getName().equals(v.getSpec().getNodeName()))
                                .map(v -> new ResourceID(v.getMetadata().getName(), v.getMetadata().getNamespace()))
                                .collect(Collectors.toSet()))
                        .withOnUpdateFilter((now, before) -> !Objects.equals(readiness(now), readiness(before)))
                        .withOnAddFilter(n -> false)
                        .build(), context);
        return List.of(instances, nodes);
    }

    private static String readiness(VMNode node) {
        return node.getStatus() == null ? null : io.kubevmm.api.status.Conditions.find(node.getStatus().getConditions(),
                ConditionTypes.READY).map(c -> c.getStatus() + "/" + c.getReason()).orElse(null);
    }

    @Override
    public UpdateControl<VirtualMachine> reconcile(VirtualMachine vm, Context<VirtualMachine> context) {
        Optional<VirtualMachineInstance> vmi = context.getSecondaryResource(VirtualMachineInstance.class);
        List<FieldError> errors = SpecValidator.validate(vm);
        String invalid = errors.isEmpty() ? null : errors.stream().map(FieldError::toString).collect(Collectors.joining("; "));
        VmState want = SpecDefaults.state(vm.getSpec());

        String placedOn = vmi.map(v -> v.getSpec().getNodeName()).orElse(null);
        String unschedulable = null;
        Failover.Decision lost = null;
        String restoreId = annotation(vm, Labels.RESTORE_ID);
        // The overlay address comes first: an instance is created (or changed) only with it.
        VmNetworking.Decision network = networking.decide(vm, invalid == null && want != VmState.Defined, vmi.isPresent());
        OverlayAttachment overlay = network.forInstance();
        if (network.blocked()) {
            // No address: nothing is created, and an instance that runs is left as it is.
            metrics.counter("kubevmm.network.allocations", "outcome", network.problem().reason()).increment();
        } else if (invalid == null && restoreId != null && want != VmState.Defined) {
            // A VMRestore rolls this VM back (or started it as a clone): the current instance, if any,
            // gives way to one started from the snapshot on the snapshot's node.
            Optional<VirtualMachineInstance> current = vmi;
            if (current.isPresent() && !restoreId.equals(annotation(current.get(), Labels.RESTORE_ID))) {
                if (current.get().getMetadata().getDeletionTimestamp() == null) {
                    deleteInstance(current.get(), true); // the snapshot brings the disks the VM rolls back to
                    events.normal(vm, "Restoring", "stopping the current instance to start from VMSnapshot "
                            + annotation(vm, Labels.RESTORE_FROM));
                }
                return UpdateControl.<VirtualMachine>noUpdate().rescheduleAfter(500);
            }
            placedOn = annotation(vm, Labels.RESTORE_NODE);
            RestoreSource source = current.map(v -> v.getSpec().getRestoreFrom()).orElseGet(() -> {
                RestoreSource s = new RestoreSource();
                s.setKind(RestoreSource.Kind.Snapshot);
                s.setName(annotation(vm, Labels.RESTORE_FROM));
                return s;
            });
            vmi = Optional.of(ensureInstance(vm, VmiSpecs.desired(vm, placedOn, source, restoreId, overlay), current));
        } else if (invalid == null) {
            if (want == VmState.Defined) {
                // Stopped to Defined: the instance goes, the disks stay on their node (status.diskNode).
                vmi.filter(v -> v.getMetadata().getDeletionTimestamp() == null).ifPresent(v -> deleteInstance(v, false));
                placedOn = null;
            } else {
                if (placedOn == null) {
                    // A VM whose disks are on a node starts there again, or waits saying why.
                    var decision = scheduler.place(Scheduler.Request.of(vm).onDiskNode(VmStatusFactory.diskNode(vm, null)),
                            inventory.candidates(
                            vm.getMetadata().getNamespace(), vm.getMetadata().getName()));
                    placedOn = decision.node().orElse(null);
                    unschedulable = decision.placed() ? null : decision.message();
                    metrics.counter("kubevmm.scheduling.attempts", "outcome", decision.placed() ? "scheduled" : "unschedulable").increment();
                } else if (vmi.isPresent() && vmi.get().getMetadata().getDeletionTimestamp() == null) {
                    // Its node may be lost: the VM stays down, waits for the node to be fenced, or moves (docs/ha.md).
                    Placement after = failOverIfLost(vm, vmi.get());
                    vmi = Optional.of(after.vmi());
                    placedOn = after.vmi().getSpec().getNodeName();
                    lost = after.lost();
                }
                if (placedOn != null) {
                    // An instance started from a snapshot keeps that origin (and its restore id) for its life.
                    VirtualMachineInstance current = vmi.orElse(null);
                    vmi = Optional.of(ensureInstance(vm, VmiSpecs.desired(vm, placedOn,
                            current == null ? null : current.getSpec().getRestoreFrom(),
                            current == null ? null : annotation(current, Labels.RESTORE_ID), overlay), vmi));
                }
            }
        }
        // An invalid edit to a VM that already runs leaves the instance alone: nothing running is lost.

        VirtualMachineStatus status = VmStatusFactory.compute(vm, new VmStatusFactory.Observation(invalid, placedOn, unschedulable,
                vmi.orElse(null), network.record(), network.problem(), lost == null || !lost.nodeLost() ? null : lost.message()));
        UpdateControl<VirtualMachine> control = writeStatus(vm, status);
        if (network.blocked()) {
            return control.rescheduleAfter(network.problem().transientFailure() ? 200 : UNSCHEDULABLE_RETRY_MILLIS);
        }
        if (lost != null && lost.recheckAt() != null) {
            return control.rescheduleAfter(Math.max(200, java.time.Duration.between(health.now(), lost.recheckAt()).toMillis()));
        }
        return unschedulable != null ? control.rescheduleAfter(UNSCHEDULABLE_RETRY_MILLIS) : control;
    }

    @Override
    public DeleteControl cleanup(VirtualMachine vm, Context<VirtualMachine> context) {
        var vmi = client.resources(VirtualMachineInstance.class).inNamespace(vm.getMetadata().getNamespace())
                .withName(vm.getMetadata().getName()).get();
        VmDeletion deletion = new VmDeletion(client, events);
        List<String> migrations = deletion.cancelMigrations(vm);
        if (vmi == null) {
            // Only now, with its QEMU gone, may another VM get the address.
            for (String network : networking.release(vm)) {
                events.normal(vm, "AddressReleased", "overlay address on VMNetwork " + network + " released");
            }
            events.normal(vm, "Deleted", "instance gone; VM deleted");
            return DeleteControl.defaultDelete();
        }
        if (!"true".equals(annotation(vmi, Labels.DELETE_DISKS))) {
            // Also on an instance already going away (a stop just before the delete): the VM's disks go with it.
            markDeleteDisks(vmi);
        }
        if (vmi.getMetadata().getDeletionTimestamp() == null) {
            deleteInstance(vmi, true);
        }
        deletion.report(vm, migrations, vmi);
        // The node runtime's finalizer holds the VMI until its QEMU is gone and its state removed.
        return DeleteControl.noFinalizerRemoval().rescheduleAfter(1000);
    }

    /** Where the VM's instance is after {@link #failOverIfLost}, and what its lost node means for it (null: not lost). */
    private record Placement(VirtualMachineInstance vmi, Failover.Decision lost) { }

    /**
     * A VM whose node is lost: decided by {@link Failover}; when it is to restart elsewhere, the
     * scheduler picks another node and {@link FailoverMove} moves the instance there.
     */
    private Placement failOverIfLost(VirtualMachine vm, VirtualMachineInstance vmi) {
        String from = vmi.getSpec().getNodeName();
        Failover.Decision lost = Failover.decide(vm, health.lease(from), health.now(), health.margin());
        if (lost.action() != Failover.Action.RESTART_ELSEWHERE) {
            return new Placement(vmi, lost);
        }
        var decision = scheduler.place(Scheduler.Request.of(vm), inventory.candidates(
                vm.getMetadata().getNamespace(), vm.getMetadata().getName()).stream().filter(n -> !n.name().equals(from)).toList());
        metrics.counter("kubevmm.scheduling.attempts", "outcome", decision.placed() ? "scheduled" : "unschedulable").increment();
        if (!decision.placed()) {
            return new Placement(vmi, new Failover.Decision(lost.action(), lost.message() + ", but no other node can take it now: "
                    + decision.message(), lost.recheckAt()));
        }
        String to = decision.node().orElseThrow();
        var moved = failovers.move(vmi, from, to, lost.message());
        if (moved.isEmpty()) {
            return new Placement(vmi, lost); // it moved meanwhile: the next reconcile sees where
        }
        boolean disks = vm.getSpec().getDisks() != null && !vm.getSpec().getDisks().isEmpty();
        events.warning(vm, "FailedOver", "node " + from + " was lost and is fenced: restarting on node " + to
                + (disks ? " with fresh disks (restartWithLocalDiskLoss: the disks on " + from + " are not used)" : ""));
        metrics.counter("kubevmm.ha.failovers", "mode", "Restart").increment();
        return new Placement(moved.get(), null);
    }

    private static String annotation(io.fabric8.kubernetes.api.model.HasMetadata object, String key) {
        var annotations = object.getMetadata().getAnnotations();
        return annotations == null ? null : annotations.get(key);
    }

    private VirtualMachineInstance ensureInstance(VirtualMachine vm, VirtualMachineInstance desired, Optional<VirtualMachineInstance> existing) {
        String node = desired.getSpec().getNodeName();
        if (existing.isEmpty()) {
            VirtualMachineInstance created = client.resource(desired).create();
            events.normal(vm, "Scheduled", "placed on node " + node + "; instance created");
            return created;
        }
        VirtualMachineInstance current = existing.get();
        current = failovers.syncFenceAnnotation(current, desired);
        if (JSON.valueToTree(current.getSpec()).equals(JSON.valueToTree(desired.getSpec()))) {
            return current;
        }
        if (!Objects.equals(current.getSpec().getState(), desired.getSpec().getState())) {
            events.normal(vm, "StateChange", "instance state " + current.getSpec().getState() + " -> " + desired.getSpec().getState());
        }
        return StatusPatch.replaceSpec(client, current, desired.getSpec());
    }

    /**
     * Deletes the VM's instance. {@code deleteDisks} tells its node runtime (annotation
     * {@link Labels#DELETE_DISKS}) that the disks go too: the VM is deleted or rolled back. Without
     * it the node keeps them, since disks live as long as the VM.
     */
    private void deleteInstance(VirtualMachineInstance vmi, boolean deleteDisks) {
        if (deleteDisks) {
            markDeleteDisks(vmi);
        }
        client.resource(vmi).delete();
    }

    private void markDeleteDisks(VirtualMachineInstance vmi) {
        try {
            client.resources(VirtualMachineInstance.class).inNamespace(vmi.getMetadata().getNamespace())
                    .withName(vmi.getMetadata().getName())
                    .edit(v -> {
                        var annotations = v.getMetadata().getAnnotations() == null
                                ? new java.util.HashMap<String, String>() : new java.util.HashMap<>(v.getMetadata().getAnnotations());
                        annotations.put(Labels.DELETE_DISKS, "true");
                        v.getMetadata().setAnnotations(annotations);
                        return v;
                    });
        } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
            if (e.getCode() != 404) {
                throw e;
            }
            // Already gone: its node runtime deletes the disks once it finds the VM gone.
        }
    }

    private UpdateControl<VirtualMachine> writeStatus(VirtualMachine vm, VirtualMachineStatus status) {
        VirtualMachineStatus previous = vm.getStatus();
        if (previous != null && JSON.valueToTree(previous).equals(JSON.valueToTree(status))) {
            return UpdateControl.noUpdate();
        }
        announce(vm, previous, status);
        // A merge patch, valid whatever the stored object holds; retried with backoff, reported if it still fails.
        try {
            StatusPatch.replaceStatus(client, vm, status);
        } catch (KubernetesClientException e) {
            events.warning(vm, "StatusWriteFailed", "the operator could not write this VM's status (" + e.getMessage()
                    + "); trying again in " + STATUS_RETRY_MILLIS / 1000 + " s");
            return UpdateControl.<VirtualMachine>noUpdate().rescheduleAfter(STATUS_RETRY_MILLIS);
        }
        return UpdateControl.noUpdate();
    }

    /** Events for what changed: phase, validity, scheduling failures. */
    private void announce(VirtualMachine vm, VirtualMachineStatus before, VirtualMachineStatus after) {
        var was = before == null ? null : before.getPhase();
        if (after.getPhase() != was) {
            String message = "phase " + (was == null ? "none" : was) + " -> " + after.getPhase()
                    + (after.getNodeName() == null ? "" : " on node " + after.getNodeName());
            events.normal(vm, after.getPhase().name(), message);
            metrics.counter("kubevmm.vm.transitions", "phase", after.getPhase().name()).increment();
        }
        conditionChange(vm, before, after, ConditionTypes.VALID, false, "InvalidSpec");
        conditionChange(vm, before, after, ConditionTypes.SCHEDULED, false, "FailedScheduling");
        conditionChange(vm, before, after, ConditionTypes.READY, false, "NodeLost");
        OverlayAttachment held = before == null ? null : before.getNetwork();
        OverlayAttachment holds = after.getNetwork();
        if (holds != null && !holds.equals(held)) {
            events.normal(vm, "AddressAllocated", "overlay address " + holds.getIpAddress() + " and MAC " + holds.getMacAddress()
                    + " on VMNetwork " + holds.getNetworkName() + ", kept for the VM's life");
        } else if (holds == null && held != null) {
            events.normal(vm, "AddressReleased", "overlay address " + held.getIpAddress() + " on VMNetwork " + held.getNetworkName() + " released");
        }
    }

    private void conditionChange(VirtualMachine vm, VirtualMachineStatus before, VirtualMachineStatus after,
                                 String type, boolean warnWhen, String reason) {
        var now = io.kubevmm.api.status.Conditions.find(after.getConditions(), type);
        var then = before == null ? Optional.<io.fabric8.kubernetes.api.model.Condition>empty()
                : io.kubevmm.api.status.Conditions.find(before.getConditions(), type);
        if (now.isPresent() && String.valueOf(warnWhen).equalsIgnoreCase(now.get().getStatus())
                && (type.equals(ConditionTypes.READY) ? "NodeLost".equals(now.get().getReason())
                        : WARNED_REASONS.contains(now.get().getReason()))
                && (then.isEmpty() || !Objects.equals(then.get().getMessage(), now.get().getMessage()))) {
            events.warning(vm, reason, now.get().getMessage());
        }
    }
}
