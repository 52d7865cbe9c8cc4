package io.kubevmm.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Duration;
import java.util.List;

/** {@code delete KIND NAME...}: deletes objects; {@code --wait} until finalizers let them go (VM: QEMU gone). */
@Command(name = "delete", description = "Delete objects. A VM's finalizer stops its QEMU and removes its instance first; its disks are deleted from their node with it.")
final class DeleteCommand extends ClusterCommand {
    @Parameters(index = "0", paramLabel = "KIND")
    String kindName;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "NAME")
    List<String> names;

    @Option(names = "--wait", description = "Wait until the objects are gone.")
    boolean await;

    @Option(names = "--timeout", defaultValue = "120s", paramLabel = "DURATION", description = "With --wait: how long (default: ${DEFAULT-VALUE}).")
    String timeout;

    @Override
    public Integer call() throws InterruptedException {
        Kind kind = Kind.parse(kindName);
        ClusterObjects objects = objects();
        for (String name : names) {
            if (!objects.delete(kind, namespace(), name)) {
                throw ClusterObjects.notFound(kind, namespace(), name);
            }
            out().println(kind.singular() + "." + io.kubevmm.api.v1alpha1.Labels.GROUP + " \"" + name + "\" deleted");
            out().flush();
        }
        if (await) {
            long deadline = System.nanoTime() + Durations.parse(timeout).toNanos();
            for (String name : names) {
                while (objects.find(kind, namespace(), name).isPresent()) {
                    if (System.nanoTime() > deadline) {
                        throw new CliException("timed out after " + timeout + " waiting for " + kind.singular() + " \"" + name
                                + "\" to go; see its finalizers and events: kubevmm describe " + kind.shortName + " " + name);
                    }
                    Thread.sleep(Duration.ofMillis(250));
                }
            }
        }
        return 0;
    }
}
