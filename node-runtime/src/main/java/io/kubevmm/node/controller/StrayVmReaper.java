package io.kubevmm.node.controller;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.kubevmm.api.v1alpha1.Labels;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.node.config.NodeConfig;
import io.kubevmm.node.lifecycle.DiskRetention;
import io.kubevmm.node.lifecycle.NodeVms;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import io.kubevmm.node.ha.FenceMarker;
import io.kubevmm.node.lifecycle.MachineState;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * At start, stops emulators whose VMI no longer exists (deleted while this runtime was down and
 * its finalizer forced away): no QEMU may run a VM nobody can see. Disks live as long as their
 * VirtualMachine, so such a dir keeps its disks while the VM exists; and every
 * {@code kubevmm.node.disk-sweep-interval} the disks kept for stopped VMs are deleted once their
 * VM is gone (a VM deleted while {@code Defined} has no VMI to carry the operator's word).
 */
@ApplicationScoped
public class StrayVmReaper {
    private static final Logger LOG = Logger.getLogger(StrayVmReaper.class);

    private final KubernetesClient client;
    private final NodeVms vms;
    private final String nodeName;
    private volatile boolean started;

    StrayVmReaper(KubernetesClient client, NodeVms vms, NodeConfig config) {
        this.client = client;
        this.vms = vms;
        this.nodeName = config.name();
    }

    void onStart(@Observes StartupEvent event) {
        started = reapStrays();
    }

    /** The start-up pass; false if the API could not list this node's VMIs (tried again by the sweep). */
    private boolean reapStrays() {
        Set<String> known;
        try {
            known = client.resources(VirtualMachineInstance.class).inAnyNamespace()
                    .withLabel(Labels.NODE, nodeName).list().getItems().stream()
                    .map(vmi -> NodeVms.id(vmi.getMetadata().getNamespace(), vmi.getMetadata().getName()))
                    .collect(Collectors.toSet());
        } catch (KubernetesClientException e) {
            LOG.warnf("cannot list VMIs to find stray VMs (%s); leaving state dirs alone for now", e.getMessage());
            return false;
        }
        for (var dir : vms.strayStateDirs(known)) {
            Optional<String> movedTo = movedTo(dir);
            if (movedTo.isPresent()) {
                LOG.warnf("%s was restarted on node %s while this node was lost: stopping any QEMU of it here and removing "
                        + "its state and disks, without starting it", dir, movedTo.get());
                vms.reap(dir, true);
                continue;
            }
            var decision = decide(dir);
            LOG.warnf("no VMI for %s: stopping any QEMU of it and %s (%s)", dir,
                    decision.deleteDisks() ? "removing the dir" : "keeping only its disks", decision.reason());
            vms.reap(dir, decision.deleteDisks());
        }
        return true;
    }

    /** Deletes the kept disks of VMs that were deleted (or replaced by a new VM of the same name). */
    @Scheduled(every = "${kubevmm.node.disk-sweep-interval:15s}", delayed = "5s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void sweepKeptDisks() {
        if (!started) {
            started = reapStrays(); // the start-up pass decides first, with the emulators in view
            return;
        }
        removeMovedAway();
        for (Path dir : vms.idleStateDirs()) {
            String recorded = DiskRetention.owner(dir).orElse(null);
            var decision = decide(dir);
            if (decision.deleteDisks() && vms.dropKeptDisks(dir, recorded)) {
                LOG.infof("deleted the kept disks in %s: %s", dir, decision.reason());
            }
        }
    }

    /**
     * Runners of highly available VMs whose instance the operator moved to another node while
     * this one was lost (a node runtime that was frozen or cut off, and runs on): their old guest
     * (fenced already) and its state go, and nothing of it starts here again. A guest that left by
     * live migration is the migration's to clean up.
     */
    private void removeMovedAway() {
        for (var runner : List.copyOf(vms.all())) {
            Path dir = runner.stateDir();
            if (!FenceMarker.marked(dir) || runner.observe().machine() == MachineState.MIGRATED) {
                continue;
            }
            movedTo(dir).ifPresent(node -> {
                String[] id = split(dir.getFileName().toString());
                LOG.warnf("%s was restarted on node %s while this node was lost: removing its old guest and state here", dir, node);
                vms.delete(id[0], id[1], true).exceptionally(e -> {
                    LOG.warnf("removing %s: %s", dir, e.getMessage());
                    return null;
                });
            });
        }
    }

    /**
     * The node a fence-marked VM's instance now names, if another: the operator restarted it there
     * after this node was declared lost. Empty for an unmarked dir or when the API cannot say.
     */
    private Optional<String> movedTo(Path dir) {
        String[] id = split(dir.getFileName().toString());
        if (id == null || !FenceMarker.marked(dir)) {
            return Optional.empty();
        }
        try {
            VirtualMachineInstance vmi = client.resources(VirtualMachineInstance.class).inNamespace(id[0]).withName(id[1]).get();
            String node = vmi == null || vmi.getSpec() == null ? null : vmi.getSpec().getNodeName();
            return node == null || node.equals(nodeName) ? Optional.empty() : Optional.of(node);
        } catch (KubernetesClientException e) {
            LOG.debugf("cannot read VirtualMachineInstance for %s: %s", dir, e.getMessage());
            return Optional.empty();
        }
    }

    /** {@code <namespace>_<name>} as namespace and name, or null for a name we did not make. */
    private static String[] split(String id) {
        int sep = id.indexOf('_');
        return sep <= 0 || sep == id.length() - 1 ? null : new String[] {id.substring(0, sep), id.substring(sep + 1)};
    }

    private DiskRetention.Decision decide(Path dir) {
        return DiskRetention.decide(lookup(dir.getFileName().toString()), DiskRetention.owner(dir).orElse(null));
    }

    /** The VirtualMachine a state dir ({@code <namespace>_<name>}) is named for. */
    private DiskRetention.VmLookup lookup(String id) {
        int sep = id.indexOf('_');
        if (sep <= 0 || sep == id.length() - 1) {
            return DiskRetention.VmLookup.unknown(); // not a name we made: leave it alone
        }
        try {
            VirtualMachine vm = client.resources(VirtualMachine.class).inNamespace(id.substring(0, sep))
                    .withName(id.substring(sep + 1)).get();
            return vm == null ? DiskRetention.VmLookup.absent()
                    : DiskRetention.VmLookup.present(vm.getMetadata().getUid(), vm.getMetadata().getDeletionTimestamp() != null);
        } catch (KubernetesClientException e) {
            LOG.debugf("cannot read VirtualMachine for %s: %s", id, e.getMessage());
            return DiskRetention.VmLookup.unknown();
        }
    }
}
