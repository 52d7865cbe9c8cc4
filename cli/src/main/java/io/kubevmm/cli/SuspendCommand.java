package io.kubevmm.cli;

import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code suspend NAME [--to-disk | --in-memory]}: spec.state=Suspended. Without a flag the VM's
 * own spec.suspendMode decides (Memory unless the manifest says Disk).
 */
@Command(name = "suspend", description = "Pause a VM with its state kept (spec.state=Suspended).")
final class SuspendCommand extends ClusterCommand {
    @Parameters(paramLabel = "NAME")
    String name;

    @ArgGroup(exclusive = true)
    Mode mode;

    static final class Mode {
        @Option(names = "--to-disk", description = "Save the full machine state to the node's disk and free its memory (spec.suspendMode=Disk).")
        boolean toDisk;

        @Option(names = "--in-memory", description = "Pause in place, memory kept on the node (spec.suspendMode=Memory).")
        boolean inMemory;
    }

    @Override
    public Integer call() {
        String suspendMode = mode == null ? null : mode.toDisk ? "Disk" : "Memory";
        return StatePatch.apply(this, name, "Suspended", suspendMode);
    }
}
