package io.kubevmm.cli;

import io.kubevmm.api.v1alpha1.Labels;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code delete KIND NAME...} or {@code delete -f FILE}: deletes objects; {@code --wait} until
 * finalizers let them go (VM: QEMU gone, disks removed).
 */
@Command(name = "delete", description = {"Delete objects named on the command line or in manifest files.",
        "Deleting a VM stops its QEMU and removes its instance first (its finalizer); its disks are deleted from their node with it."})
final class DeleteCommand extends ClusterCommand {
    @Parameters(index = "0", arity = "0..1", paramLabel = "KIND", description = "vm, vmi, vmnode, vmmig, vmsnap or vmrestore.")
    String kindName;

    @Parameters(index = "1..*", arity = "0..*", paramLabel = "NAME")
    List<String> names = new ArrayList<>();

    @Option(names = {"-f", "--filename"}, paramLabel = "FILE",
            description = "Delete the objects in this manifest file, directory or - for stdin; repeatable.")
    List<String> files = new ArrayList<>();

    @Option(names = "--wait", description = "Wait until the objects are gone.")
    boolean await;

    @Option(names = "--timeout", defaultValue = "120s", paramLabel = "DURATION", description = "With --wait: how long (default: ${DEFAULT-VALUE}).")
    String timeout;

    /** One object to delete. */
    private record Target(Kind kind, String namespace, String name) { }

    @Override
    public Integer call() throws InterruptedException {
        List<Target> targets = targets();
        ClusterObjects objects = objects();
        List<Target> deleted = new ArrayList<>();
        boolean missing = false;
        for (Target t : targets) {
            if (objects.delete(t.kind(), t.namespace(), t.name())) {
                out().println(t.kind().singular() + "." + Labels.GROUP + " \"" + t.name() + "\" deleted");
                deleted.add(t);
            } else if (files.isEmpty()) {
                throw ClusterObjects.notFound(t.kind(), t.namespace(), t.name());
            } else {
                // kubectl goes on with the other objects of the file and fails at the end.
                err().println("error: " + ClusterObjects.notFound(t.kind(), t.namespace(), t.name()).getMessage());
                missing = true;
            }
            out().flush();
        }
        if (await) {
            awaitGone(objects, deleted);
        }
        err().flush();
        return missing ? 1 : 0;
    }

    private List<Target> targets() {
        if (!files.isEmpty()) {
            if (kindName != null) {
                throw new CliException("give either KIND NAME... or -f FILE, not both");
            }
            List<Target> targets = new ArrayList<>();
            for (String file : files) {
                for (ManifestReader.Manifest m : ManifestReader.read(file, env(), System.in)) {
                    Kind kind = Kind.ofManifest(m.kindName());
                    String namespace = Optional.ofNullable(JsonPath.string(m.tree(), ".metadata.namespace")).orElse(namespace());
                    targets.add(new Target(kind, namespace, m.name()));
                }
            }
            if (targets.isEmpty()) {
                throw new CliException("no objects in " + String.join(", ", files));
            }
            return targets;
        }
        if (kindName == null || names.isEmpty()) {
            throw new CliException("give KIND NAME... (e.g. kubevmm delete vm demo) or -f FILE");
        }
        Kind kind = Kind.parse(kindName);
        return names.stream().map(n -> new Target(kind, namespace(), n)).toList();
    }

    private void awaitGone(ClusterObjects objects, List<Target> deleted) throws InterruptedException {
        long deadline = System.nanoTime() + Durations.parse(timeout).toNanos();
        for (Target t : deleted) {
            while (objects.find(t.kind(), t.namespace(), t.name()).isPresent()) {
                if (System.nanoTime() > deadline) {
                    throw new CliException("timed out after " + timeout + " waiting for " + t.kind().singular() + " \"" + t.name()
                            + "\" to go; see its finalizers and events: kubevmm describe " + t.kind().shortName + " " + t.name());
                }
                Thread.sleep(Duration.ofMillis(250));
            }
        }
    }
}
