package io.kubevmm.cli;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.kubevmm.api.status.ConditionTypes;
import io.kubevmm.api.v1alpha1.VMSnapshot;
import io.kubevmm.api.v1alpha1.VMSnapshotSpec;
import io.kubevmm.api.v1alpha1.VMSnapshotStatus;
import io.kubevmm.api.v1alpha1.VMSnapshotStatus.Phase;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * {@code snapshot NAME [--type FullState|Disk] [--name SNAP]}: creates a VMSnapshot and follows it
 * until it is Ready (then prints the pause, duration and size the node measured) or Failed.
 */
@Command(name = "snapshot", description = "Snapshot a VM (memory and disks, or disks only) and show its progress.")
final class SnapshotCommand extends ClusterCommand {
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT);

    @Parameters(paramLabel = "NAME", description = "The VirtualMachine to snapshot.")
    String vmName;

    @Option(names = "--type", paramLabel = "TYPE", description = "FullState (default: memory, vCPU and device state and disks) or Disk.")
    VMSnapshotSpec.Type type;

    @Option(names = "--name", paramLabel = "SNAP", description = "Name of the VMSnapshot (default: NAME-<UTC time>).")
    String snapshotName;

    @Mixin
    FollowOptions following;

    @Override
    public Integer call() throws InterruptedException {
        ClusterObjects.checkedName(Kind.VM, vmName);
        if (snapshotName != null) {
            ClusterObjects.checkedName(Kind.VMSNAP, snapshotName);
        }
        if (client().resources(VirtualMachine.class).inNamespace(namespace()).withName(vmName).get() == null) {
            throw ClusterObjects.notFound(Kind.VM, namespace(), vmName);
        }
        String name = snapshotName != null ? snapshotName : vmName + "-" + STAMP.format(ZonedDateTime.now(ZoneOffset.UTC));
        VMSnapshotSpec spec = new VMSnapshotSpec();
        spec.setVmName(vmName);
        spec.setType(type);
        VMSnapshot snapshot = new VMSnapshot();
        snapshot.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(namespace()).build());
        snapshot.setSpec(spec);
        client().resource(snapshot).create();
        out().printf("vmsnapshot/%s created: %s snapshot of vm/%s%n", name, type == null ? "FullState" : type, vmName);
        out().flush();
        if (following.noWait) {
            return 0;
        }
        VMSnapshotStatus end = following.follow(out(), "snapshot", "kubevmm get vmsnap " + name, () -> {
            VMSnapshot s = client().resources(VMSnapshot.class).inNamespace(namespace()).withName(name).get();
            if (s == null) {
                throw new CliException("vmsnapshot/" + name + " was deleted");
            }
            return s.getStatus() == null ? new VMSnapshotStatus() : s.getStatus();
        }, SnapshotCommand::progress, s -> s.getPhase() == Phase.Ready || s.getPhase() == Phase.Failed);
        if (end.getPhase() == Phase.Failed) {
            throw new CliException("vmsnapshot/" + name + " failed: " + end.getError() + ". See: kubevmm describe vmsnap " + name);
        }
        out().printf(Locale.ROOT, "vmsnapshot/%s ready on %s: guest paused %d ms, took %d ms, %.1f MiB stored%n", name,
                end.getNodeName(), zero(end.getPauseMillis()), zero(end.getDurationMillis()), zero(end.getSizeBytes()) / 1048576.0);
        return 0;
    }

    private static String progress(VMSnapshotStatus s) {
        Phase phase = s.getPhase() == null ? Phase.Pending : s.getPhase();
        StringBuilder line = new StringBuilder(phase.name());
        if (s.getNodeName() != null) {
            line.append("  on ").append(s.getNodeName());
        }
        if (s.getConditions() != null) {
            s.getConditions().stream().filter(c -> ConditionTypes.SCHEDULED.equals(c.getType()) && "False".equals(c.getStatus()))
                    .findFirst().ifPresent(c -> line.append("  (").append(c.getMessage()).append(")"));
        }
        return line.toString();
    }

    private static long zero(Long v) {
        return v == null ? 0 : v;
    }
}
