package io.kubevmm.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code describe KIND NAME}: one object for a human, with its conditions and recent Events. */
@Command(name = "describe", description = "Show one object in detail: spec summary, status, instance, conditions and recent Events.")
final class DescribeCommand extends ClusterCommand {
    @Parameters(index = "0", paramLabel = "KIND", description = "vm, vmi, vmnode, vmmig, vmsnap or vmrestore.")
    String kindName;

    @Parameters(index = "1", paramLabel = "NAME")
    String name;

    @Override
    public Integer call() {
        Kind kind = Kind.parse(kindName);
        ClusterObjects objects = objects();
        Map<String, Object> object = ClusterObjects.tree(objects.require(kind, namespace(), name));
        DescribeWriter w = new DescribeWriter(out(), Instant.now());
        if (kind == Kind.VM) {
            // The VM's instance has the same name; its events belong to the VM's story too.
            Map<String, Object> vmi = objects.find(Kind.VMI, namespace(), name).map(ClusterObjects::tree).orElse(null);
            new VmDescription(w).write(object, vmi);
            w.events(RecentEvents.about(client(), kind, namespace(), name, List.of(Kind.VM, Kind.VMI)));
        } else {
            generic(w, object);
            w.events(RecentEvents.about(client(), kind, namespace(), name, List.of(kind)));
        }
        out().flush();
        return 0;
    }

    /** Kinds without a tailored view: metadata, then spec and status as YAML, then conditions. */
    private void generic(DescribeWriter w, Map<String, Object> object) {
        w.line(0, "Name", JsonPath.string(object, ".metadata.name"));
        if (JsonPath.string(object, ".metadata.namespace") != null) {
            w.line(0, "Namespace", JsonPath.string(object, ".metadata.namespace"));
        }
        w.line(0, "Labels", VmDescription.labels(JsonPath.read(object, ".metadata.labels")))
                .line(0, "Created", w.time(JsonPath.string(object, ".metadata.creationTimestamp")))
                .yaml(0, "Spec", JsonPath.read(object, ".spec"));
        Map<String, Object> status = new LinkedHashMap<>();
        if (JsonPath.read(object, ".status") instanceof Map<?, ?> s) {
            s.forEach((k, v) -> status.put(String.valueOf(k), v));
        }
        Object conditions = status.remove("conditions");
        w.yaml(0, "Status", status).conditions(0, conditions);
    }
}
