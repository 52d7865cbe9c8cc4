package io.kubevmm.operator.network;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.kubevmm.api.status.ConditionTypes;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.status.EventWriter;
import io.kubevmm.api.v1alpha1.VMNetwork;
import io.kubevmm.api.v1alpha1.VMNetworkStatus;
import io.kubevmm.api.v1alpha1.VMNetworkStatus.Allocation;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Keeps a VMNetwork's status honest: condition Valid (the cidr parses, no older network has
 * the vni), the counts, and the book without entries of VMs that no longer exist (a VM whose
 * deletion skipped the operator's cleanup, e.g. its finalizer removed by hand). Writes the status
 * with the resourceVersion it read, as the allocator does, so it never drops a fresh entry.
 */
@ControllerConfiguration(name = VMNetworkReconciler.NAME)
public class VMNetworkReconciler implements Reconciler<VMNetwork> {
    static final String NAME = "vmnetwork";
    /** Validity depends on other networks (vni) and the book on VMs: both are looked at again this often. */
    static final long RECHECK_MILLIS = 60_000;

    private final KubernetesClient client;
    private final EventWriter events;

    VMNetworkReconciler(KubernetesClient client,
                        @ConfigProperty(name = "kubevmm.operator.instance", defaultValue = "kubevmm-operator") String instance) {
        this.client = client;
        this.events = new EventWriter(client, "kubevmm-operator", instance);
    }

    @Override
    public UpdateControl<VMNetwork> reconcile(VMNetwork cached, Context<VMNetwork> context) {
        // The network first, then the VMs: an entry in the book read was written after its VM existed.
        VMNetwork network = client.resources(VMNetwork.class).withName(cached.getMetadata().getName()).get();
        if (network == null) {
            return UpdateControl.noUpdate();
        }
        List<VMNetwork> all = client.resources(VMNetwork.class).list().getItems();
        Set<String> vms = client.resources(VirtualMachine.class).inAnyNamespace().list().getItems().stream()
                .map(vm -> key(vm.getMetadata().getNamespace() + "/" + vm.getMetadata().getName(), vm.getMetadata().getUid()))
                .collect(Collectors.toSet());

        VMNetworkStatus before = network.getStatus() == null ? new VMNetworkStatus() : network.getStatus();
        Optional<String> problem = problem(network, all);
        Ipv4Range range = Ipv4Range.parse(network.getSpec() == null ? null : network.getSpec().getCidr()).range().orElse(null);
        List<Allocation> book = before.getAllocations() == null ? List.of() : before.getAllocations();
        List<Allocation> orphans = book.stream().filter(a -> !vms.contains(key(a.getVm(), a.getVmUid()))).toList();

        VMNetworkStatus after = new VMNetworkStatus();
        List<Allocation> kept = book.stream().filter(a -> !orphans.contains(a)).toList();
        after.setAllocations(kept.isEmpty() ? null : kept);
        NetworkAllocator.counts(after, range);
        long generation = network.getMetadata().getGeneration() == null ? 0 : network.getMetadata().getGeneration();
        after.setConditions(new Conditions(before.getConditions(), generation)
                .set(ConditionTypes.VALID, problem.isEmpty(), problem.isEmpty() ? "NetworkValid" : "InvalidNetwork",
                        problem.orElseGet(() -> "cidr " + range + " gives " + range.assignableCount() + " VM addresses; gateway "
                                + Ipv4Range.format(range.gateway())))
                .buildKeepingOthers());
        if (!same(before, after)) {
            if (!NetworkStatusWriter.write(client, network, after)) {
                return UpdateControl.<VMNetwork>noUpdate().rescheduleAfter(200); // an allocation wrote meanwhile
            }
            announce(network, before, problem, orphans);
        }
        return UpdateControl.<VMNetwork>noUpdate().rescheduleAfter(RECHECK_MILLIS);
    }

    /** Why the network cannot be used, or empty. */
    static Optional<String> problem(VMNetwork network, List<VMNetwork> all) {
        if (network.getSpec() == null) {
            return Optional.of("spec is missing; give spec.cidr (e.g. 10.200.0.0/16) and spec.vni (1 to 16777215)");
        }
        Ipv4Range.Parsed parsed = Ipv4Range.parse(network.getSpec().getCidr());
        if (parsed.range().isEmpty()) {
            return Optional.of("spec.cidr " + parsed.error());
        }
        Integer vni = network.getSpec().getVni();
        if (vni == null || vni < 1 || vni > 16_777_215) {
            return Optional.of("spec.vni " + vni + " is not a VXLAN identifier; use 1 to 16777215");
        }
        Comparator<VMNetwork> older = Comparator.comparing((VMNetwork n) -> Objects.toString(n.getMetadata().getCreationTimestamp(), ""))
                .thenComparing(n -> n.getMetadata().getName());
        return all.stream()
                .filter(n -> !n.getMetadata().getName().equals(network.getMetadata().getName()))
                .filter(n -> n.getSpec() != null && vni.equals(n.getSpec().getVni()))
                .filter(n -> older.compare(n, network) < 0)
                .findFirst()
                .map(n -> "spec.vni " + vni + " is already the VXLAN segment of VMNetwork " + n.getMetadata().getName()
                        + "; give this network another vni");
    }

    private void announce(VMNetwork network, VMNetworkStatus before, Optional<String> problem, List<Allocation> orphans) {
        var was = Conditions.find(before.getConditions(), ConditionTypes.VALID);
        if (problem.isPresent() && (was.isEmpty() || !problem.get().equals(was.get().getMessage()))) {
            events.warning(network, "InvalidNetwork", problem.get());
        } else if (problem.isEmpty() && was.isPresent() && "False".equals(was.get().getStatus())) {
            events.normal(network, "NetworkValid", "the network is usable again");
        }
        for (Allocation orphan : orphans) {
            events.normal(network, "AddressReleased", orphan.getIpAddress() + " (" + orphan.getMacAddress() + ") released: VM "
                    + orphan.getVm() + " (uid " + orphan.getVmUid() + ") no longer exists");
        }
    }

    private static boolean same(VMNetworkStatus a, VMNetworkStatus b) {
        return Objects.equals(a.getAllocatedCount(), b.getAllocatedCount()) && Objects.equals(a.getFreeCount(), b.getFreeCount())
                && Objects.equals(keys(a.getAllocations()), keys(b.getAllocations()))
                && Objects.equals(conditionKeys(a), conditionKeys(b));
    }

    private static List<String> keys(List<Allocation> book) {
        return book == null ? List.of() : book.stream().map(x -> x.getIpAddress() + "|" + x.getMacAddress() + "|" + key(x.getVm(), x.getVmUid())).toList();
    }

    private static List<String> conditionKeys(VMNetworkStatus s) {
        return s.getConditions() == null ? List.of()
                : s.getConditions().stream().map(c -> c.getType() + "|" + c.getStatus() + "|" + c.getReason() + "|" + c.getMessage()
                        + "|" + c.getObservedGeneration()).toList();
    }

    private static String key(String vm, String uid) {
        return vm + "#" + uid;
    }
}
