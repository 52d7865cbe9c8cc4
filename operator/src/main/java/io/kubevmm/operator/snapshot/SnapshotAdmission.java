package io.kubevmm.operator.snapshot;

import io.kubevmm.api.status.ConditionTypes;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VMMigrationStatus;
import io.kubevmm.api.v1alpha1.VMSnapshot;
import io.kubevmm.api.v1alpha1.VMSnapshotSpec;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;

import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Whether a pending snapshot may be taken now, and by which node: the one running the VM. A
 * full-state snapshot needs the VM's memory, so a running VM or one suspended to memory; a disk
 * snapshot also takes a VM suspended to disk or stopped (its disks stay on its node). A VM in the middle of a live migration has two
 * copies in flux, so the snapshot waits for the migration to end; so does a second snapshot of
 * a VM that is being snapshotted. Pure.
 */
final class SnapshotAdmission {
    private static final Set<VMMigrationStatus.Phase> MIGRATING = EnumSet.of(VMMigrationStatus.Phase.Scheduling,
            VMMigrationStatus.Phase.TargetReady, VMMigrationStatus.Phase.Running, VMMigrationStatus.Phase.PostCopy);

    private SnapshotAdmission() { }

    sealed interface Decision {
        /** Can never succeed as written; the message names the field and the fix. */
        record Reject(String reason, String message) implements Decision { }

        /** Not now; tried again later. */
        record Wait(String reason, String message) implements Decision { }

        record Admit(String node) implements Decision { }
    }

    static Decision decide(VMSnapshot snapshot, VirtualMachine vm, VirtualMachineInstance vmi,
                           List<VMMigration> migrations, List<VMSnapshot> snapshots) {
        String vmName = snapshot.getSpec().getVmName();
        String namespace = snapshot.getMetadata().getNamespace();
        if (vm == null) {
            return new Decision.Reject("VMNotFound", "spec.vmName: there is no VirtualMachine " + vmName + " in namespace " + namespace);
        }
        VMSnapshotSpec.Type type = snapshot.getSpec().getType() == null ? VMSnapshotSpec.Type.FullState : snapshot.getSpec().getType();
        if (vmi == null || vmi.getSpec() == null || vmi.getSpec().getNodeName() == null) {
            return new Decision.Reject("VMNotRunning", "spec.vmName: VirtualMachine " + vmName + " does not run on any node; "
                    + (type == VMSnapshotSpec.Type.FullState ? "a FullState snapshot needs its memory: start it first"
                    : "start it (spec.state: Running) to snapshot its disks"));
        }
        var status = vmi.getStatus();
        InstancePhase phase = status == null ? null : status.getPhase();
        boolean onDisk = status != null && Conditions.find(status.getConditions(), ConditionTypes.PAUSED)
                .filter(c -> "SuspendedToDisk".equals(c.getReason()) && "True".equals(c.getStatus())).isPresent();
        boolean hasMemory = phase == InstancePhase.Running || (phase == InstancePhase.Suspended && !onDisk);
        if (type == VMSnapshotSpec.Type.FullState && phase == InstancePhase.Stopped) {
            return new Decision.Reject("VMNotRunning", "spec.type: VirtualMachine " + vmName
                    + " is stopped and has no memory state; use type Disk, or start it first");
        }
        if (type == VMSnapshotSpec.Type.FullState && !hasMemory) {
            return onDisk
                    ? new Decision.Reject("VMNotRunning", "spec.type: VirtualMachine " + vmName + " is suspended to disk, its state is "
                            + "already saved; resume it for a FullState snapshot, or use type Disk")
                    : new Decision.Wait("VMNotRunning", "VirtualMachine " + vmName + " is " + (phase == null ? "starting" : phase)
                            + "; the FullState snapshot is taken once it runs");
        }
        if (type == VMSnapshotSpec.Type.Disk && !hasMemory && !onDisk && phase != InstancePhase.Stopped) {
            return new Decision.Wait("VMNotRunning", "VirtualMachine " + vmName + " is " + (phase == null ? "starting" : phase)
                    + "; the Disk snapshot is taken once it runs");
        }
        for (VMMigration migration : migrations) {
            var ms = migration.getStatus();
            if (migration.getSpec() != null && vmName.equals(migration.getSpec().getVmName())
                    && namespace.equals(migration.getMetadata().getNamespace()) && ms != null && MIGRATING.contains(ms.getPhase())) {
                return new Decision.Wait("Migrating", "VirtualMachine " + vmName + " is being live-migrated by VMMigration "
                        + migration.getMetadata().getName() + "; the snapshot is taken when it ends");
            }
        }
        for (VMSnapshot other : snapshots) {
            var os = other.getStatus();
            if (other.getSpec() != null && vmName.equals(other.getSpec().getVmName())
                    && namespace.equals(other.getMetadata().getNamespace())
                    && !Objects.equals(other.getMetadata().getUid(), snapshot.getMetadata().getUid())
                    && SnapshotPhases.beingTaken(os)) {
                return new Decision.Wait("SnapshotInProgress", "VMSnapshot " + other.getMetadata().getName()
                        + " of the same VM is being taken; this one follows");
            }
        }
        return new Decision.Admit(vmi.getSpec().getNodeName());
    }
}
