package io.kubevmm.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code start NAME}: spec.state=Running (boots it, or starts the vCPUs of a Stopped instance). */
@Command(name = "start", description = "Run a VM (spec.state=Running).")
final class StartCommand extends ClusterCommand {
    @Parameters(paramLabel = "NAME")
    String name;

    @Override
    public Integer call() {
        return StatePatch.apply(this, name, "Running", null);
    }
}
