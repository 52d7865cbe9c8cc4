package io.kubevmm.cli;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.utils.Serialization;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** {@code apply -f FILE}: creates or updates each object in the file; validates all of them first. */
@Command(name = "apply", description = "Create or update KubeVMM objects from YAML files (multi-document, a List, or a directory).")
final class ApplyCommand extends ClusterCommand {
    @Option(names = {"-f", "--filename"}, required = true, paramLabel = "FILE",
            description = "Manifest file, directory or - for stdin; repeatable.")
    List<String> files;

    @Override
    public Integer call() {
        List<ManifestReader.Manifest> manifests = new ArrayList<>();
        files.forEach(f -> manifests.addAll(ManifestReader.read(f, env(), System.in)));
        // All or nothing: one bad object stops the whole apply before anything is sent.
        List<String> problems = new ArrayList<>();
        for (ManifestReader.Manifest m : manifests) {
            ManifestValidator.problems(m).forEach(p -> problems.add(m.source() + ": " + m.label() + ": " + p));
        }
        if (!problems.isEmpty()) {
            problems.forEach(p -> err().println("error: " + p));
            err().flush();
            return 1;
        }
        if (manifests.isEmpty()) {
            throw new CliException("no objects in " + String.join(", ", files));
        }
        for (ManifestReader.Manifest m : manifests) {
            out().println(apply(m));
            out().flush();
        }
        return 0;
    }

    /** Applies one object; returns kubectl's line: {@code virtualmachine.kubevmm.io/demo created|configured|unchanged}. */
    private String apply(ManifestReader.Manifest manifest) {
        Kind kind = Kind.ofManifest(manifest.kindName());
        Map<String, Object> desired = withoutStatus(manifest.tree());
        String name = manifest.name();
        String namespace = Optional.ofNullable(JsonPath.string(desired, ".metadata.namespace")).orElse(namespace());
        String applied = ObjectOutput.compactJson(desired);
        ClusterObjects objects = objects();
        Optional<GenericKubernetesResource> live = objects.find(kind, namespace, name);
        if (live.isEmpty()) {
            GenericKubernetesResource object = Serialization.jsonMapper().convertValue(desired, GenericKubernetesResource.class);
            if (kind.namespaced()) {
                object.getMetadata().setNamespace(namespace);
            }
            Map<String, String> annotations = new LinkedHashMap<>(Optional.ofNullable(object.getMetadata().getAnnotations()).orElse(Map.of()));
            annotations.put(ApplyPatch.LAST_APPLIED, applied);
            object.getMetadata().setAnnotations(annotations);
            objects.create(kind, namespace, object);
            return kind.ref(name) + " created";
        }
        Map<String, Object> liveTree = ClusterObjects.tree(live.get());
        Map<String, Object> patch = ApplyPatch.compute(lastApplied(live.get()), liveTree, desired);
        if (patch.isEmpty()) {
            return kind.ref(name) + " unchanged";
        }
        annotations(patch).put(ApplyPatch.LAST_APPLIED, applied);
        objects.mergePatch(kind, namespace, name, patch);
        return kind.ref(name) + " configured";
    }

    private static Map<String, Object> withoutStatus(Map<String, Object> tree) {
        Map<String, Object> copy = new LinkedHashMap<>(tree);
        copy.remove("status"); // status belongs to the operator and node runtimes
        return copy;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> lastApplied(GenericKubernetesResource live) {
        Map<String, String> annotations = live.getMetadata().getAnnotations();
        String json = annotations == null ? null : annotations.get(ApplyPatch.LAST_APPLIED);
        return json == null ? null : Serialization.unmarshal(json, Map.class);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> annotations(Map<String, Object> patch) {
        Map<String, Object> metadata = (Map<String, Object>) patch.computeIfAbsent("metadata", k -> new LinkedHashMap<>());
        Object annotations = metadata.get("annotations");
        if (!(annotations instanceof Map<?, ?>)) {
            annotations = new LinkedHashMap<String, Object>();
            metadata.put("annotations", annotations);
        }
        return (Map<String, Object>) annotations;
    }
}
