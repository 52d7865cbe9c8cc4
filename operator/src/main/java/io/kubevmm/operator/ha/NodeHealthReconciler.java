package io.kubevmm.operator.ha;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.kubevmm.api.status.ConditionTypes;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.status.EventWriter;
import io.kubevmm.api.status.StatusPatch;
import io.kubevmm.api.v1alpha1.Labels;
import io.kubevmm.api.v1alpha1.VMNode;
import io.kubevmm.api.v1alpha1.VMNodeStatus;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.micrometer.core.instrument.MeterRegistry;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Watches each node's Lease (docs/ha.md): once it expired, the VMNode gets {@code Ready=False}
 * reason {@code LeaseExpired} and a Warning Event; once the fence margin has passed too, the
 * Lease gets the operator's fence mark ({@link NodeHealth#markFenced}), after which the VM
 * reconciler restarts the node's Restart VMs elsewhere. When the node renews again and none of
 * those VMs is left on it, the mark goes and its remaining highly available guests may run.
 * Triggered by VMNode changes (every heartbeat) and by its own timer at the next deadline, since
 * an expiring Lease changes nothing anyone could watch.
 */
@ControllerConfiguration(name = NodeHealthReconciler.NAME, generationAwareEventProcessing = false)
public class NodeHealthReconciler implements Reconciler<VMNode> {
    static final String NAME = "node-health";
    private static final Logger LOG = Logger.getLogger(NodeHealthReconciler.class);
    static final String LEASE_EXPIRED = "LeaseExpired";

    private final KubernetesClient client;
    private final NodeHealth health;
    private final EventWriter events;
    private final MeterRegistry metrics;

    NodeHealthReconciler(KubernetesClient client, NodeHealth health, MeterRegistry metrics,
                         @ConfigProperty(name = "kubevmm.operator.instance", defaultValue = "kubevmm-operator") String instance) {
        this.client = client;
        this.health = health;
        this.metrics = metrics;
        this.events = new EventWriter(client, "kubevmm-operator", instance);
    }

    @Override
    public UpdateControl<VMNode> reconcile(VMNode node, Context<VMNode> context) {
        String name = node.getMetadata().getName();
        NodeLease lease = health.lease(name);
        Instant now = health.now();
        if (lease.lost(now)) {
            declareLost(node, lease);
            Instant fencedBy = lease.fencedBy(health.margin());
            if (!lease.fenceMarked()) {
                if (now.isBefore(fencedBy)) {
                    return after(Duration.between(now, fencedBy));
                }
                if (health.markFenced(lease, now)) {
                    LOG.warnf("node %s fenced: Lease expired at %s, fence margin passed at %s", name, lease.expiresAt(), fencedBy);
                    events.warning(node, "NodeFenced", "node " + name + " is fenced since " + fencedBy + " (Lease expired at "
                            + lease.expiresAt() + " + fence margin " + health.margin().toSeconds() + " s): its highly "
                            + "available guests are stopped, its VMs of highAvailability mode Restart restart on other nodes");
                    metrics.counter("kubevmm.ha.nodes.fenced").increment();
                }
                return after(Duration.ofSeconds(1));
            }
            return after(Duration.ofSeconds(2));
        }
        if (lease.fenceMarked()) {
            List<String> left = movableLeft(name);
            if (left.isEmpty() && health.removeFenceMark(name)) {
                events.normal(node, "NodeFenceLifted", "node " + name + " renews its Lease again and none of its VMs of "
                        + "highAvailability mode Restart is left to restart elsewhere: its fence mark is removed");
                LOG.infof("node %s back: fence mark removed", name);
            }
            return after(Duration.ofSeconds(1));
        }
        return after(Duration.between(now, lease.expiresAt()).plusMillis(200));
    }

    private static UpdateControl<VMNode> after(Duration wait) {
        return UpdateControl.<VMNode>noUpdate().rescheduleAfter(Math.max(200, wait.toMillis()));
    }

    /** VMNode Ready=False LeaseExpired (the node runtime writes Ready=True again when it is back), and a Warning Event once. */
    private void declareLost(VMNode node, NodeLease lease) {
        var conditions = node.getStatus() == null ? null : node.getStatus().getConditions();
        var ready = Conditions.find(conditions, ConditionTypes.READY);
        if (ready.isPresent() && "False".equals(ready.get().getStatus()) && LEASE_EXPIRED.equals(ready.get().getReason())) {
            return;
        }
        String name = node.getMetadata().getName();
        String message = "node runtime not responding: Lease kubevmm-node-" + name + " last renewed at "
                + (lease.renewTime() == null ? "never" : lease.renewTime()) + ", expired at " + lease.expiresAt()
                + "; VMs of highAvailability mode Restart restart on other nodes after fencing at "
                + lease.fencedBy(health.margin()) + ", the others stay down until it returns";
        List<Condition> next = new ArrayList<>();
        if (conditions != null) {
            conditions.stream().filter(c -> !ConditionTypes.READY.equals(c.getType())).forEach(next::add);
        }
        next.add(new ConditionBuilder().withType(ConditionTypes.READY).withStatus("False").withReason(LEASE_EXPIRED)
                .withMessage(message).withLastTransitionTime(health.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString())
                .build());
        VMNodeStatus status = new VMNodeStatus();
        status.setConditions(next);
        StatusPatch.statusFields(client, node, status, node.getStatus() != null);
        events.warning(node, "NodeLost", message);
        metrics.counter("kubevmm.ha.nodes.lost").increment();
        LOG.warnf("node %s lost: %s", name, message);
    }

    /** The VMs of mode Restart still placed on the node that the VM reconciler is to move. */
    private List<String> movableLeft(String node) {
        List<String> left = new ArrayList<>();
        for (VirtualMachineInstance vmi : client.resources(VirtualMachineInstance.class).inAnyNamespace()
                .withLabel(Labels.NODE, node).list().getItems()) {
            VirtualMachine vm = client.resources(VirtualMachine.class).inNamespace(vmi.getMetadata().getNamespace())
                    .withName(vmi.getMetadata().getName()).get();
            if (vm != null && Failover.movable(vm)) {
                left.add(vmi.getMetadata().getNamespace() + "/" + vmi.getMetadata().getName());
            }
        }
        return left;
    }
}
