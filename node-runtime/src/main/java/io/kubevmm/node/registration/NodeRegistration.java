package io.kubevmm.node.registration;

import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.kubevmm.api.status.ConditionTypes;
import io.kubevmm.api.v1alpha1.NodeResources;
import io.kubevmm.api.v1alpha1.VMNode;
import io.kubevmm.api.v1alpha1.VMNodeSpec;
import io.kubevmm.api.v1alpha1.VMNodeStatus;
import io.kubevmm.api.validation.Quantities;
import io.kubevmm.node.config.NodeCapacity;
import io.kubevmm.node.config.NodeConfig;
import io.kubevmm.node.ha.LeaseHold;
import io.kubevmm.node.lifecycle.MachineState;
import io.kubevmm.node.lifecycle.NodeVms;
import io.kubevmm.node.lifecycle.VmRunner;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;

/**
 * Keeps this node visible to the scheduler: its {@code VMNode} (capacity, allocation, emulator)
 * and its Lease {@code kubevmm-node-<name>}, renewed every heartbeat.
 */
@ApplicationScoped
public class NodeRegistration {
    private static final Logger LOG = Logger.getLogger(NodeRegistration.class);
    static final String LEASE_PREFIX = "kubevmm-node-";

    private final KubernetesClient client;
    private final NodeConfig config;
    private final NodeCapacity capacity;
    private final NodeVms vms;
    private final int httpPort;
    private final io.kubevmm.node.transfer.TunnelService tunnel;
    private final String leaseNamespace;
    private final LeaseHold hold;

    NodeRegistration(KubernetesClient client, NodeConfig config, NodeCapacity capacity, NodeVms vms,
                     io.kubevmm.node.transfer.TunnelService tunnel, LeaseHold hold,
                     @ConfigProperty(name = "quarkus.http.port", defaultValue = "8080") int httpPort,
                     @ConfigProperty(name = "kubevmm.node.lease-namespace", defaultValue = "kubevmm-system") String leaseNamespace) {
        this.client = client;
        this.config = config;
        this.capacity = capacity;
        this.vms = vms;
        this.tunnel = tunnel;
        this.httpPort = httpPort;
        this.leaseNamespace = leaseNamespace;
        this.hold = hold;
    }

    void onStart(@Observes StartupEvent event) {
        heartbeat();
    }

    @Scheduled(every = "${kubevmm.node.heartbeat-interval:3s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    synchronized void heartbeat() {
        // The Lease first, on its own: the VMNode write failing must not cost a renewal (fencing counts them).
        try {
            renewLease();
        } catch (KubernetesClientException e) {
            LOG.warnf("renewing the Lease of node %s failed: %s", config.name(), e.getMessage());
        }
        try {
            publishNode();
        } catch (KubernetesClientException e) {
            LOG.warnf("heartbeat of node %s failed: %s", config.name(), e.getMessage());
        }
    }

    private void publishNode() {
        var nodes = client.resources(VMNode.class);
        if (nodes.withName(config.name()).get() == null) {
            VMNode fresh = new VMNode();
            fresh.setMetadata(new ObjectMetaBuilder().withName(config.name())
                    .withLabels(Map.of("kubevmm.io/node", config.name())).build());
            fresh.setSpec(new VMNodeSpec());
            try {
                nodes.resource(fresh).create();
                LOG.infof("registered VMNode %s", config.name());
            } catch (KubernetesClientException e) {
                if (e.getCode() != 409) {
                    throw e; // 409: it appeared meanwhile, which is all we wanted
                }
            }
        }
        VMNode patch = new VMNode();
        patch.setMetadata(new ObjectMetaBuilder().withName(config.name()).build());
        patch.setStatus(status());
        nodes.resource(patch).subresource("status").patch(PatchContext.of(PatchType.JSON_MERGE));
    }

    VMNodeStatus status() {
        List<VmRunner> placed = vms.all().stream().filter(r -> {
            MachineState m = r.observe().machine();
            return m != MachineState.FINISHED && m != MachineState.FAILED && m != MachineState.MIGRATED;
        }).toList();
        VMNodeStatus s = new VMNodeStatus();
        s.setCapacity(resources(capacity.cpu(), capacity.memoryBytes()));
        s.setAllocated(resources(placed.stream().mapToInt(r -> r.config().cpus()).sum(),
                placed.stream().mapToLong(r -> r.config().memoryBytes()).sum()));
        s.setVmCount(placed.size());
        s.setAccelerator(vms.engine().accelerator().apiName());
        s.setQemuVersion(vms.engine().version());
        s.setQemuCapabilities(vms.engine().capabilities());
        s.setEndpoint(config.advertiseAddress() + ":" + httpPort);
        s.setMigrationEndpoint(config.advertiseAddress() + ":" + tunnel.port());
        s.setUnderlayAddress(config.effectiveUnderlayAddress());
        String now = ZonedDateTime.now().truncatedTo(ChronoUnit.SECONDS).format(DateTimeFormatter.ISO_INSTANT);
        s.setHeartbeatTime(now);
        boolean unprivileged = vms.engine().runsUnprivileged();
        s.setConditions(List.of(new ConditionBuilder().withType(ConditionTypes.READY).withStatus("True").withReason("NodeRuntimeRunning")
                .withMessage("node runtime is running and renewing its lease").withLastTransitionTime(now).build(),
                new ConditionBuilder().withType(ConditionTypes.QEMU_UNPRIVILEGED).withStatus(unprivileged ? "True" : "False")
                        .withReason(unprivileged ? "DedicatedUser" : "RunsPrivileged")
                        .withMessage(vms.engine().confinement()).withLastTransitionTime(now).build()));
        return s;
    }

    private static NodeResources resources(int cpu, long memoryBytes) {
        NodeResources r = new NodeResources();
        r.setCpu(cpu);
        r.setMemory(Quantities.format(memoryBytes));
        return r;
    }

    /**
     * Renews the Lease (an update conditional on the version read, so it never overwrites the
     * operator's fence mark it did not see) and tells {@link LeaseHold} the renew time it wrote:
     * fencing counts from there, never from when the answer came.
     */
    private void renewLease() {
        String name = LEASE_PREFIX + config.name();
        var leases = client.leases().inNamespace(leaseNamespace);
        ZonedDateTime now = ZonedDateTime.now(java.time.ZoneOffset.UTC);
        Lease existing = leases.withName(name).get();
        boolean fenced;
        if (existing == null) {
            leases.resource(new LeaseBuilder().withNewMetadata().withName(name).withNamespace(leaseNamespace).endMetadata()
                    .withNewSpec().withHolderIdentity(config.name())
                    .withLeaseDurationSeconds((int) config.leaseDuration().toSeconds())
                    .withAcquireTime(now).withRenewTime(now).endSpec().build()).create();
            fenced = false;
        } else {
            existing.getSpec().setRenewTime(now);
            existing.getSpec().setHolderIdentity(config.name());
            existing.getSpec().setLeaseDurationSeconds((int) config.leaseDuration().toSeconds());
            leases.resource(existing).update();
            var annotations = existing.getMetadata().getAnnotations();
            fenced = annotations != null && annotations.containsKey(FENCED_ANNOTATION);
        }
        hold.renewed(now.toInstant(), fenced);
    }

    /** Set on a node's Lease by the operator when it declared the node lost (value: when); also named in the operator. */
    public static final String FENCED_ANNOTATION = "kubevmm.io/fenced-at";
}
