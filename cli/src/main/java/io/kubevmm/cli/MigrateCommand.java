package io.kubevmm.cli;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.kubevmm.api.status.ConditionTypes;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VMMigrationSpec;
import io.kubevmm.api.v1alpha1.VMMigrationStatus;
import io.kubevmm.api.v1alpha1.VMMigrationStatus.Phase;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.EnumSet;
import java.util.List;
import java.util.Locale;

/**
 * {@code migrate NAME [--to NODE] [--strategy S] [--bandwidth MiBps]}: creates a VMMigration and
 * follows it to the end, one line per change (phase, pass, remaining, dirty rate, throttle), then
 * the downtime and total time QEMU measured. {@code --cancel} cancels the VM's running migration.
 */
@Command(name = "migrate", description = "Live-migrate a VM to another node and show its progress.")
final class MigrateCommand extends ClusterCommand {
    private static final EnumSet<Phase> DONE = EnumSet.of(Phase.Succeeded, Phase.Failed, Phase.Cancelled);

    @Parameters(paramLabel = "NAME", description = "The VirtualMachine to move.")
    String name;

    @Option(names = "--to", paramLabel = "NODE", description = "Target node (default: the scheduler chooses).")
    String targetNode;

    @Option(names = "--strategy", paramLabel = "S", description = "PreCopy, PostCopy, Hybrid or Auto (default).")
    VMMigrationSpec.Strategy strategy;

    @Option(names = "--bandwidth", paramLabel = "MiBps", description = "Cap the transfer (MiB/s; default: none).")
    Long bandwidth;

    @Option(names = "--max-downtime", paramLabel = "MS", description = "Longest pause allowed at switchover (default 300).")
    Long maxDowntime;

    @Option(names = "--completion-timeout", paramLabel = "SECONDS", description = "Abort if not done by then (the VM stays).")
    Long completionTimeout;

    @Option(names = "--multifd", paramLabel = "N", description = "Send memory over N more parallel connections (QEMU multifd; needs --strategy PreCopy).")
    Integer multifd;

    @Option(names = "--cancel", description = "Cancel the VM's migration in progress; the VM stays where it runs.")
    boolean cancel;

    @Mixin
    FollowOptions following;

    @Override
    public Integer call() throws InterruptedException {
        ClusterObjects.checkedName(Kind.VM, name);
        VirtualMachine vm = client().resources(VirtualMachine.class).inNamespace(namespace()).withName(name).get();
        if (vm == null) {
            throw ClusterObjects.notFound(Kind.VM, namespace(), name);
        }
        String migrationName = cancel ? cancelRunning() : create();
        if (following.noWait) {
            return 0;
        }
        return follow(migrationName);
    }

    private String create() {
        VMMigrationSpec spec = new VMMigrationSpec();
        spec.setVmName(name);
        spec.setTargetNode(targetNode);
        spec.setStrategy(strategy);
        spec.setBandwidthMiBps(bandwidth);
        spec.setMaxDowntimeMillis(maxDowntime);
        spec.setCompletionTimeoutSeconds(completionTimeout);
        spec.setMultifdChannels(multifd);
        VMMigration migration = new VMMigration();
        String migrationName = name + "-" + Long.toString(System.currentTimeMillis(), 36);
        migration.setMetadata(new ObjectMetaBuilder().withName(migrationName).withNamespace(namespace()).build());
        migration.setSpec(spec);
        client().resource(migration).create();
        out().printf("vmmigration/%s created: %s -> %s%n", migrationName, name, targetNode == null ? "(scheduler's choice)" : targetNode);
        out().flush();
        return migrationName;
    }

    private String cancelRunning() {
        List<VMMigration> running = client().resources(VMMigration.class).inNamespace(namespace()).list().getItems().stream()
                .filter(m -> name.equals(m.getSpec().getVmName()))
                .filter(m -> m.getStatus() == null || m.getStatus().getPhase() == null || !DONE.contains(m.getStatus().getPhase()))
                .toList();
        if (running.isEmpty()) {
            throw new CliException("VM " + name + " has no migration in progress in namespace " + namespace());
        }
        VMMigration migration = running.getFirst();
        client().resources(VMMigration.class).inNamespace(namespace()).withName(migration.getMetadata().getName())
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"cancel\":true}}");
        out().printf("vmmigration/%s: cancel requested%n", migration.getMetadata().getName());
        out().flush();
        return migration.getMetadata().getName();
    }

    private int follow(String migrationName) throws InterruptedException {
        VMMigrationStatus end = following.follow(out(), "migration", "kubevmm get vmmig " + migrationName, () -> {
            VMMigration m = client().resources(VMMigration.class).inNamespace(namespace()).withName(migrationName).get();
            if (m == null) {
                throw new CliException("vmmigration/" + migrationName + " was deleted (which cancels it)");
            }
            return m.getStatus() == null ? new VMMigrationStatus() : m.getStatus();
        }, MigrateCommand::progress, s -> s.getPhase() != null && DONE.contains(s.getPhase()));
        return outcome(migrationName, end);
    }

    private int outcome(String migrationName, VMMigrationStatus s) {
        switch (s.getPhase()) {
            case Succeeded -> {
                out().printf("vm/%s migrated %s -> %s: downtime %d ms, total %d ms, %s sent in %d passes%n", name,
                        s.getSourceNode(), s.getTargetNode(), nz(s.getDowntimeMillis()), nz(s.getTotalTimeMillis()),
                        mib(s.getTransferredBytes()), nz(s.getIterations()));
                return 0;
            }
            case Cancelled -> {
                out().printf("vmmigration/%s cancelled; vm/%s stays on %s%n", migrationName, name, s.getSourceNode());
                return cancel ? 0 : 1;
            }
            default -> throw new CliException("vmmigration/" + migrationName + " failed: " + s.getFailureReason()
                    + ". See: kubevmm describe vmmig " + migrationName);
        }
    }

    private static String progress(VMMigrationStatus s) {
        String phase = s.getPhase() == null ? "Pending" : s.getPhase().name();
        StringBuilder b = new StringBuilder(phase);
        if (s.getSourceNode() != null) {
            b.append("  ").append(s.getSourceNode()).append(" -> ").append(s.getTargetNode());
        }
        if (s.getPhase() == Phase.Running || s.getPhase() == Phase.PostCopy) {
            b.append(String.format(Locale.ROOT, "  pass %d  sent %s  remaining %s  dirty %s/s  throttle %d%%",
                    nz(s.getIterations()), mib(s.getTransferredBytes()), mib(s.getRemainingBytes()),
                    mib(s.getDirtyRateBytesPerSecond()), s.getThrottlePercent() == null ? 0 : s.getThrottlePercent()));
        }
        var waiting = s.getConditions() == null ? null : s.getConditions().stream()
                .filter(c -> ConditionTypes.SCHEDULED.equals(c.getType()) && "False".equals(c.getStatus())).findFirst().orElse(null);
        if (s.getPhase() == null || s.getPhase() == Phase.Pending) {
            if (waiting != null) {
                b.append("  (").append(waiting.getMessage()).append(")");
            }
        }
        return b.toString();
    }

    private static long nz(Long v) {
        return v == null ? 0 : v;
    }

    private static String mib(Long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", nz(bytes) / 1048576.0);
    }
}
