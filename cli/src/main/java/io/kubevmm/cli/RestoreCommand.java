package io.kubevmm.cli;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.kubevmm.api.v1alpha1.VMRestore;
import io.kubevmm.api.v1alpha1.VMRestoreSpec;
import io.kubevmm.api.v1alpha1.VMRestoreStatus;
import io.kubevmm.api.v1alpha1.VMRestoreStatus.Phase;
import io.kubevmm.api.v1alpha1.VMSnapshot;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code restore SNAP [--as NEWVM] [--node NODE]}: rolls the snapshot's VM back to it, or clones it
 * into a new VM, and follows the VMRestore until the VM runs again or the restore failed.
 */
@Command(name = "restore", description = "Roll a VM back to a snapshot, or clone the snapshot into a new VM (--as).")
final class RestoreCommand extends ClusterCommand {

    @Parameters(paramLabel = "SNAP", description = "The VMSnapshot to restore.")
    String snapshotName;

    @Option(names = "--as", paramLabel = "NEWVM", description = "Clone into a new VM with this name (default: roll back the snapshot's own VM).")
    String newVm;

    @Option(names = "--node", paramLabel = "NODE", description = "Node to restore onto (default: the node that holds the snapshot).")
    String node;

    @Mixin
    FollowOptions following;

    @Override
    public Integer call() throws InterruptedException {
        ClusterObjects.checkedName(Kind.VMSNAP, snapshotName);
        if (newVm != null) {
            ClusterObjects.checkedName(Kind.VM, newVm);
        }
        VMSnapshot snapshot = client().resources(VMSnapshot.class).inNamespace(namespace()).withName(snapshotName).get();
        if (snapshot == null) {
            throw ClusterObjects.notFound(Kind.VMSNAP, namespace(), snapshotName);
        }
        String target = newVm != null ? newVm : snapshot.getSpec().getVmName();
        boolean rollback = target.equals(snapshot.getSpec().getVmName());
        String name = target + "-restore-" + Long.toString(System.currentTimeMillis(), 36);
        VMRestoreSpec spec = new VMRestoreSpec();
        spec.setSnapshotName(snapshotName);
        spec.setTargetVmName(target);
        spec.setTargetNode(node);
        VMRestore restore = new VMRestore();
        restore.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(namespace()).build());
        restore.setSpec(spec);
        client().resource(restore).create();
        out().printf("vmrestore/%s created: %s%n", name, rollback
                ? "rolling vm/" + target + " back to vmsnapshot/" + snapshotName
                : "cloning vmsnapshot/" + snapshotName + " into new vm/" + target);
        out().flush();
        if (following.noWait) {
            return 0;
        }
        VMRestoreStatus end = following.follow(out(), "restore", "kubevmm get vmrestore " + name, () -> {
            VMRestore r = client().resources(VMRestore.class).inNamespace(namespace()).withName(name).get();
            if (r == null) {
                throw new CliException("vmrestore/" + name + " was deleted");
            }
            return r.getStatus() == null ? new VMRestoreStatus() : r.getStatus();
        }, s -> (s.getPhase() == null ? Phase.Pending : s.getPhase()) + (s.getTargetNode() == null ? "" : "  on " + s.getTargetNode()),
                s -> s.getPhase() == Phase.Succeeded || s.getPhase() == Phase.Failed);
        if (end.getPhase() == Phase.Failed) {
            throw new CliException("vmrestore/" + name + " failed: " + end.getError() + ". See: kubevmm describe vmrestore " + name);
        }
        out().printf("vm/%s %s vmsnapshot/%s on %s in %d ms%n", target, rollback ? "rolled back to" : "cloned from",
                snapshotName, end.getTargetNode(), end.getDurationMillis() == null ? 0 : end.getDurationMillis());
        return 0;
    }
}
