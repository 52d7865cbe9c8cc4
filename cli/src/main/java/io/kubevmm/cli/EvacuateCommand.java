package io.kubevmm.cli;

import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.kubevmm.api.v1alpha1.EvacuationStatus;
import io.kubevmm.api.v1alpha1.VMNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code evacuate NODE}: sets the VMNode's spec.evacuate, so the operator live-migrates every VM
 * away (within the migration limits), and follows status.evacuation until the node is empty.
 */
@Command(name = "evacuate", description = "Live-migrate every VM off a node (VMNode spec.evacuate=true) and show progress.")
final class EvacuateCommand extends ClusterCommand {
    @Parameters(paramLabel = "NODE")
    String node;

    @Option(names = "--undo", description = "Stop evacuating: the node takes VMs again (VMs already moved stay where they are).")
    boolean undo;

    @Option(names = "--no-wait", description = "Start the evacuation and return.")
    boolean noWait;

    @Option(names = "--timeout", defaultValue = "60m", paramLabel = "DURATION", description = "Stop following after this long (default: ${DEFAULT-VALUE}).")
    String timeoutText;

    @Option(names = "--interval", defaultValue = "1s", hidden = true)
    String intervalText;

    @Override
    public Integer call() throws InterruptedException {
        ClusterObjects.checkedName(Kind.VMNODE, node);
        var nodes = client().resources(VMNode.class);
        if (nodes.withName(node).get() == null) {
            throw ClusterObjects.notFound(Kind.VMNODE, null, node);
        }
        nodes.withName(node).patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"evacuate\":" + !undo + "}}");
        out().printf("vmnode/%s: %s%n", node, undo ? "evacuation stopped; it takes VMs again" : "evacuating");
        out().flush();
        if (undo || noWait) {
            return 0;
        }
        new FollowOptions(timeoutText, intervalText).follow(out(), "evacuation", "kubevmm describe vmnode " + node, () -> {
            VMNode now = nodes.withName(node).get();
            return now == null || now.getStatus() == null ? null : now.getStatus().getEvacuation();
        }, e -> e == null ? "waiting for the operator" : e.getPhase() + ": " + e.getMessage() + " (migrated "
                + zero(e.getMigrated()) + ", rescheduled " + zero(e.getRescheduled()) + ", failed attempts " + zero(e.getFailed()) + ")",
                e -> e != null && e.getPhase() == EvacuationStatus.Phase.Completed);
        return 0;
    }

    private static int zero(Integer v) {
        return v == null ? 0 : v;
    }
}
