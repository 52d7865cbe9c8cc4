package io.kubevmm.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code stop NAME}: spec.state=Defined (instance and QEMU go away); {@code --halt} keeps it Stopped on its node. */
@Command(name = "stop", description = "Stop a VM (spec.state=Defined: the guest is shut down and its instance removed).")
final class StopCommand extends ClusterCommand {
    @Parameters(paramLabel = "NAME")
    String name;

    @Option(names = "--halt", description = "Keep the instance on its node with vCPUs halted (spec.state=Stopped), so it starts fast.")
    boolean halt;

    @Override
    public Integer call() {
        return StatePatch.apply(this, name, halt ? "Stopped" : "Defined", null);
    }
}
