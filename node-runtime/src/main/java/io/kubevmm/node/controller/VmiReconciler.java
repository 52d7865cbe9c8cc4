package io.kubevmm.node.controller;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.kubevmm.api.status.ConditionTypes;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.status.StatusPatch;
import io.kubevmm.api.v1alpha1.HighAvailabilitySpec;
import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.node.ha.FenceMarker;
import io.kubevmm.api.v1alpha1.Labels;
import io.kubevmm.api.v1alpha1.SpecDefaults;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceStatus;
import io.kubevmm.node.config.NodeConfig;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.events.EventRecorder;
import io.kubevmm.node.lifecycle.ImagePaths;
import io.kubevmm.node.images.ImageState;
import io.kubevmm.node.images.ImagesNotReady;
import io.kubevmm.node.lifecycle.Lifecycle;
import io.kubevmm.node.lifecycle.NodeVms;
import io.kubevmm.node.lifecycle.VmObservation;
import io.kubevmm.node.lifecycle.VmRunner;
import io.kubevmm.node.lifecycle.VmiConfigMapper;
import io.kubevmm.node.snapshot.NodeSnapshots;
import io.kubevmm.api.v1alpha1.RestoreSource;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Makes the VMIs labelled for this node real: converges each one's QEMU to {@code spec.state}
 * and reports what happened in status, conditions and Events. The label selector
 * ({@code kubevmm.io/node=<this node>}) is set in application.properties.
 */
@ControllerConfiguration(name = VmiReconciler.NAME)
public class VmiReconciler implements Reconciler<VirtualMachineInstance>, Cleaner<VirtualMachineInstance> {
    static final String NAME = "vmi";
    private static final Logger LOG = Logger.getLogger(VmiReconciler.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final Duration STATUS_RETRY = Duration.ofSeconds(5);
    private static final Duration SECRET_RETRY = Duration.ofSeconds(5);

    private final KubernetesClient client;
    private final NodeVms vms;
    private final VmiConfigMapper mapper;
    private final NodeSnapshots snapshots;
    private final VmiAdmission admission;
    private final EventRecorder events;
    /** The stop each VM's last Event told about (a runner's stop is announced once). */
    private final java.util.Map<String, java.time.Instant> announcedStops = new java.util.concurrent.ConcurrentHashMap<>();
    private final VmiStatusFactory.NodeFacts facts;
    private final SimpleInboundEventSource<VirtualMachineInstance> vmChanges = new SimpleInboundEventSource<>("vm-changes");

    VmiReconciler(NodeVms vms, VmiConfigMapper mapper, VmiAdmission admission, EventRecorder events, NodeConfig config,
                  NodeSnapshots snapshots, KubernetesClient client) {
        this.client = client;
        this.snapshots = snapshots;
        this.vms = vms;
        this.mapper = mapper;
        this.admission = admission;
        this.events = events;
        this.facts = new VmiStatusFactory.NodeFacts(config.name(), vms.engine().accelerator().apiName(), vms.engine().version());
        vms.onChange((namespace, name) -> vmChanges.propagateEvent(new ResourceID(name, namespace)));
    }

    @Override
    public List<EventSource<?, VirtualMachineInstance>> prepareEventSources(EventSourceContext<VirtualMachineInstance> context) {
        return List.of(vmChanges);
    }

    @Override
    public UpdateControl<VirtualMachineInstance> reconcile(VirtualMachineInstance vmi, Context<VirtualMachineInstance> context) {
        String namespace = vmi.getMetadata().getNamespace();
        String name = vmi.getMetadata().getName();
        Optional<VmRunner> existing = vms.find(namespace, name);
        if (existing.isPresent() && existing.get().observe().machine() == io.kubevmm.node.lifecycle.MachineState.MIGRATED) {
            return UpdateControl.noUpdate(); // the guest moved: the target node writes this VMI's status now
        }

        Optional<VmiAdmission.Rejection> rejection = admission.check(vmi, existing.isPresent());
        if (rejection.isPresent()) {
            VmiAdmission.Rejection r = rejection.get();
            return writeStatus(vmi, VmiStatusFactory.rejected(vmi, facts, r.reason(), r.message()));
        }

        VmConfig config;
        try {
            config = mapper.toConfig(vmi);
        } catch (ImagePaths.Refused refused) {
            // Checked before any file is opened: nothing is read, nothing that runs is touched.
            LOG.infof("refusing %s/%s: %s", namespace, name, refused.getMessage());
            return writeStatus(vmi, VmiStatusFactory.rejected(vmi, facts, refused.reason(), refused.getMessage()));
        } catch (ImagesNotReady waiting) {
            // A download runs (or failed and is retried later): nothing starts until every image is verified.
            return writeStatus(vmi, VmiStatusFactory.awaitingImages(vmi, facts, waiting)).rescheduleAfter(
                    waiting.failed().map(f -> Math.max(1000, java.time.Duration.between(java.time.Instant.now(),
                            ((ImageState.Failed) f.state()).retryAt()).toMillis())).orElse(1000L));
        }
        if (existing.isEmpty() && !vms.leftByEarlierRuntime(namespace, name)) {
            // A guest about to be created needs its cloud-init user-data Secret; it is tried again until readable.
            Optional<String> secret = mapper.cloudInitProblem(vmi);
            if (secret.isPresent()) {
                LOG.infof("not starting %s/%s yet: %s", namespace, name, secret.get());
                return writeStatus(vmi, VmiStatusFactory.rejected(vmi, facts, "SecretUnavailable", secret.get()))
                        .rescheduleAfter(SECRET_RETRY.toMillis());
            }
        }
        // Records whose disks the state dir holds (also on a migration's target), before anything uses them.
        vms.claim(namespace, name, ownerUid(vmi));
        markForFencing(vmi);
        var restoreFrom = vmi.getSpec().getRestoreFrom();
        // A guest an earlier node runtime restored is adopted below, not restored a second time.
        if (existing.isEmpty() && restoreFrom != null && restoreFrom.getKind() == RestoreSource.Kind.Snapshot
                && !vms.leftByEarlierRuntime(namespace, name)) {
            // Starts from a snapshot instead of booting: the runner exists once the emulator is restored.
            snapshots.restore(vmi, config);
            var outcome = snapshots.restoreOutcome(vmi).orElseThrow();
            if (outcome.failure() != null) {
                return writeStatus(vmi, VmiStatusFactory.rejected(vmi, facts, "RestoreFailed", outcome.failure()));
            }
            if (!outcome.done()) {
                return UpdateControl.<VirtualMachineInstance>noUpdate().rescheduleAfter(200);
            }
            existing = vms.find(namespace, name);
        }
        Optional<VmRunner> held = vms.runner(namespace, name, config);
        if (held.isEmpty()) {
            // Its emulator is arriving (migration, restore) and is handed to a runner when it has;
            // that hand-over triggers a reconcile, the retry covers a lost one.
            return UpdateControl.<VirtualMachineInstance>noUpdate().rescheduleAfter(1000);
        }
        VmRunner runner = held.get();
        var spec = vmi.getSpec();
        runner.converge(config,
                new Lifecycle.Desired(spec.getState(), spec.getSuspendMode(), spec.getRestartPolicy()),
                spec.getReadiness() == null ? null : spec.getReadiness().getSerialPattern(),
                Duration.ofSeconds(SpecDefaults.terminationGracePeriodSeconds(spec)),
                Objects.requireNonNullElse(vmi.getMetadata().getGeneration(), 0L));

        VmObservation obs = runner.observe();
        announceStop(vmi, obs);
        VirtualMachineInstanceStatus status = VmiStatusFactory.fromObservation(vmi, obs, facts,
                new VmiStatusFactory.Sizing(vms.engine().effectiveMemoryBytes(config), vms.engine().workarounds(config)));
        UpdateControl<VirtualMachineInstance> control = writeStatus(vmi, status);
        Duration retry = runner.retryDelay();
        return retry == null ? control : control.rescheduleAfter(retry.toMillis());
    }

    @Override
    public DeleteControl cleanup(VirtualMachineInstance vmi, Context<VirtualMachineInstance> context) {
        String namespace = vmi.getMetadata().getNamespace();
        String name = vmi.getMetadata().getName();
        // Disks live as long as the VM: only the operator's word that the VM itself goes deletes them.
        boolean deleteDisks = "true".equals(vmi.getMetadata().getAnnotations() == null ? null
                : vmi.getMetadata().getAnnotations().get(Labels.DELETE_DISKS));
        var deletion = vms.delete(namespace, name, deleteDisks);
        if (!deletion.isDone()) {
            return DeleteControl.noFinalizerRemoval().rescheduleAfter(500);
        }
        if (deletion.isCompletedExceptionally()) {
            LOG.warnf("deleting %s/%s: %s", namespace, name, deletion.exceptionNow().getMessage());
            events.warning(vmi, "DeleteFailed", "could not clean up the VM on node " + facts.nodeName() + ": "
                    + deletion.exceptionNow().getMessage());
            return DeleteControl.noFinalizerRemoval().rescheduleAfter(5000);
        }
        events.normal(vmi, "Deleted", deleteDisks
                ? "QEMU stopped; state and disks removed on node " + facts.nodeName()
                : "QEMU stopped; disks kept on node " + facts.nodeName() + " until the VM is deleted");
        return DeleteControl.defaultDelete();
    }

    /**
     * Puts the fence marker in the VM's state dir while the operator says the VM restarts on
     * another node when this one is lost (annotation {@link HighAvailabilitySpec#FENCE_ANNOTATION}):
     * before its guest boots, so the fence guard knows it from the start.
     */
    private void markForFencing(VirtualMachineInstance vmi) {
        var annotations = vmi.getMetadata().getAnnotations();
        boolean fenced = annotations != null
                && HighAvailabilitySpec.Mode.Restart.name().equals(annotations.get(HighAvailabilitySpec.FENCE_ANNOTATION));
        try {
            FenceMarker.set(vms.stateDir(vmi.getMetadata().getNamespace(), vmi.getMetadata().getName()), fenced);
        } catch (java.io.IOException e) {
            LOG.warnf("cannot %s the fence marker of %s/%s: %s", fenced ? "write" : "remove",
                    vmi.getMetadata().getNamespace(), vmi.getMetadata().getName(), e.getMessage());
        }
    }

    static String ownerUid(VirtualMachineInstance vmi) {
        return VmiConfigMapper.ownerUid(vmi);
    }

    /**
     * Writes the VMI's status as one JSON Patch (valid whatever the stored object holds) while the VMI
     * is placed on this node, retried
     * with backoff; a write that still fails is reported in a Warning Event and tried again.
     */
    private UpdateControl<VirtualMachineInstance> writeStatus(VirtualMachineInstance vmi, VirtualMachineInstanceStatus status) {
        VirtualMachineInstanceStatus previous = vmi.getStatus();
        if (previous != null && JSON.valueToTree(previous).equals(JSON.valueToTree(status))) {
            return UpdateControl.noUpdate();
        }
        try {
            // Only while the instance is placed here: a reconcile that began before a migration's
            // handover would otherwise overwrite the target's Running with this node's Migrating.
            if (!StatusPatch.replaceStatusWhile(client, vmi, status, "/spec/nodeName", facts.nodeName())) {
                LOG.debugf("%s/%s is no longer placed on %s: its status is not this node's to write",
                        vmi.getMetadata().getNamespace(), vmi.getMetadata().getName(), facts.nodeName());
                return UpdateControl.noUpdate();
            }
            announce(vmi, previous, status);
            ImageEvents.announce(events, vmi, previous, status);
        } catch (KubernetesClientException e) {
            events.warning(vmi, "StatusWriteFailed", "node " + facts.nodeName() + " could not write this VMI's status ("
                    + e.getMessage() + "); trying again in " + STATUS_RETRY.toSeconds() + " s");
            return UpdateControl.<VirtualMachineInstance>noUpdate().rescheduleAfter(STATUS_RETRY.toMillis());
        }
        return UpdateControl.noUpdate();
    }

    /** How a stop brought the guest down (agent, ACPI or kill), once per stop. */
    private void announceStop(VirtualMachineInstance vmi, VmObservation obs) {
        VmObservation.Stop stop = obs.lastStop();
        String key = vmi.getMetadata().getNamespace() + "/" + vmi.getMetadata().getName();
        if (stop != null && !stop.at().equals(announcedStops.put(key, stop.at()))) {
            if ("killed".equals(stop.way())) {
                events.warning(vmi, "GuestKilled", stop.message());
            } else {
                events.normal(vmi, "agent".equals(stop.way()) ? "GuestStoppedByAgent" : "GuestStoppedByAcpi", stop.message());
            }
        }
    }

    /** One Event per visible change: phase, readiness, failure, guest agent. */
    private void announce(VirtualMachineInstance vmi, VirtualMachineInstanceStatus before, VirtualMachineInstanceStatus after) {
        InstancePhase was = before == null ? null : before.getPhase();
        if (after.getPhase() != was) {
            String message = "phase " + (was == null ? "none" : was) + " -> " + after.getPhase() + " on node " + facts.nodeName()
                    + (after.getQemuPid() == null ? "" : " (QEMU pid " + after.getQemuPid() + ")")
                    + (after.getPhase() == InstancePhase.Running ? overlayNote(vmi) : "");
            if (after.getPhase() == InstancePhase.Failed) {
                events.warning(vmi, "Failed", message + ": " + condition(after, ConditionTypes.FAILURE).map(c -> c.getMessage()).orElse(""));
            } else {
                events.normal(vmi, after.getPhase().name(), message);
            }
        }
        boolean wasReady = before != null && isTrue(before, ConditionTypes.READY);
        if (!wasReady && isTrue(after, ConditionTypes.READY)) {
            events.normal(vmi, "GuestReady", condition(after, ConditionTypes.READY).map(c -> c.getMessage()).orElse("guest ready"));
        }
        boolean agentBefore = before != null && isTrue(before, ConditionTypes.AGENT_CONNECTED);
        boolean agentNow = isTrue(after, ConditionTypes.AGENT_CONNECTED);
        if (agentNow != agentBefore && (agentNow || before != null)) {
            events.normal(vmi, agentNow ? "GuestAgentConnected" : "GuestAgentDisconnected", condition(after, ConditionTypes.AGENT_CONNECTED)
                    .map(c -> (agentNow ? "guest agent connected: " : "guest agent disconnected: ") + c.getMessage()).orElse("guest agent"));
        }
        var failure = condition(after, ConditionTypes.FAILURE).filter(c -> "True".equals(c.getStatus()));
        var failedBefore = before == null ? Optional.<io.fabric8.kubernetes.api.model.Condition>empty()
                : condition(before, ConditionTypes.FAILURE).filter(c -> "True".equals(c.getStatus()));
        if (failure.isPresent() && after.getPhase() != InstancePhase.Failed
                && (failedBefore.isEmpty() || !Objects.equals(failedBefore.get().getMessage(), failure.get().getMessage()))) {
            events.warning(vmi, failure.get().getReason(), failure.get().getMessage());
        }
    }

    /** Where a guest on an overlay network is reachable: said when it starts running here. */
    private String overlayNote(VirtualMachineInstance vmi) {
        var overlay = vmi.getSpec().getOverlay();
        if (overlay == null || vmi.getSpec().getNetwork() == null
                || vmi.getSpec().getNetwork().getMode() != io.kubevmm.api.v1alpha1.NetworkMode.overlay) {
            return "";
        }
        return "; on overlay network " + overlay.getNetworkName() + " (vni " + overlay.getVni() + ") as " + overlay.getIpAddress()
                + ", MAC " + overlay.getMacAddress() + ", through bridge kvbr" + overlay.getVni() + " of node " + facts.nodeName();
    }

    private static Optional<io.fabric8.kubernetes.api.model.Condition> condition(VirtualMachineInstanceStatus s, String type) {
        return Conditions.find(s.getConditions(), type);
    }

    private static boolean isTrue(VirtualMachineInstanceStatus s, String type) {
        return Conditions.isTrue(s.getConditions(), type);
    }
}
