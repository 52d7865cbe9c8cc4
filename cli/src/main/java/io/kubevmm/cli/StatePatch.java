package io.kubevmm.cli;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The lifecycle verbs (start, stop, suspend, resume) are all one merge patch of {@code spec.state}
 * (and for suspend-to-disk {@code spec.suspendMode}); the operator does the rest.
 */
final class StatePatch {
    private StatePatch() { }

    /** Patches the VM and prints what changed; {@code suspendMode == null} leaves that field alone. */
    static int apply(ClusterCommand command, String name, String state, String suspendMode) {
        ClusterObjects objects = command.objects();
        Map<String, Object> vm = ClusterObjects.tree(objects.require(Kind.VM, command.namespace(), name));
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("state", state);
        if (suspendMode != null) {
            spec.put("suspendMode", suspendMode);
        }
        String change = "spec.state=" + state + (suspendMode == null ? "" : ", spec.suspendMode=" + suspendMode);
        boolean same = state.equals(JsonPath.string(vm, ".spec.state"))
                && (suspendMode == null || suspendMode.equals(JsonPath.string(vm, ".spec.suspendMode")));
        if (same) {
            command.out().println(Kind.VM.ref(name) + " unchanged (" + change + " already)");
        } else {
            objects.mergePatch(Kind.VM, command.namespace(), name, Map.of("spec", spec));
            command.out().println(Kind.VM.ref(name) + " patched (" + change + ")");
        }
        command.out().flush();
        return 0;
    }
}
