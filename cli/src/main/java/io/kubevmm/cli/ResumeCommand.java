package io.kubevmm.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code resume NAME}: spec.state=Running; the guest continues where it was suspended. */
@Command(name = "resume", description = "Continue a suspended VM (spec.state=Running).")
final class ResumeCommand extends ClusterCommand {
    @Parameters(paramLabel = "NAME")
    String name;

    @Override
    public Integer call() {
        return StatePatch.apply(this, name, "Running", null);
    }
}
