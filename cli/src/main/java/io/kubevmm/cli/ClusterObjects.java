package io.kubevmm.cli;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceList;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.MixedOperation;
import io.fabric8.kubernetes.client.dsl.NonNamespaceOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * KubeVMM objects read and written as plain JSON trees (fabric8 generic resources), so the CLI
 * shows every field the server has, including ones newer than this CLI's model. Writes are
 * creates and JSON merge patches only: the local cluster's API server has no server-side apply.
 */
final class ClusterObjects {
    private final KubernetesClient client;

    ClusterObjects(KubernetesClient client) {
        this.client = client;
    }

    private NonNamespaceOperation<GenericKubernetesResource, GenericKubernetesResourceList, Resource<GenericKubernetesResource>> in(
            Kind kind, String namespace) {
        MixedOperation<GenericKubernetesResource, GenericKubernetesResourceList, Resource<GenericKubernetesResource>> all =
                client.genericKubernetesResources(kind.context());
        return kind.namespaced() ? all.inNamespace(namespace) : all;
    }

    Optional<GenericKubernetesResource> find(Kind kind, String namespace, String name) {
        return Optional.ofNullable(in(kind, namespace).withName(name).get());
    }

    GenericKubernetesResource require(Kind kind, String namespace, String name) {
        return find(kind, namespace, name).orElseThrow(() -> notFound(kind, namespace, name));
    }

    static CliException notFound(Kind kind, String namespace, String name) {
        return new CliException(kind.singular() + " \"" + name + "\" not found" + kind.where(namespace));
    }

    /** Objects of a kind, sorted by namespace then name; {@code namespace == null} means all namespaces. */
    List<GenericKubernetesResource> list(Kind kind, String namespace) {
        var op = client.genericKubernetesResources(kind.context());
        List<GenericKubernetesResource> items = namespace == null || !kind.namespaced()
                ? op.inAnyNamespace().list().getItems()
                : op.inNamespace(namespace).list().getItems();
        return items.stream().sorted(Comparator
                .comparing((GenericKubernetesResource r) -> String.valueOf(r.getMetadata().getNamespace()))
                .thenComparing(r -> r.getMetadata().getName())).toList();
    }

    GenericKubernetesResource create(Kind kind, String namespace, GenericKubernetesResource object) {
        return in(kind, namespace).resource(object).create();
    }

    /** RFC 7386 merge patch: touches only the fields named, never status. */
    GenericKubernetesResource mergePatch(Kind kind, String namespace, String name, Map<String, Object> patch) {
        return in(kind, namespace).withName(name).patch(PatchContext.of(PatchType.JSON_MERGE), ObjectOutput.compactJson(patch));
    }

    boolean delete(Kind kind, String namespace, String name) {
        return !in(kind, namespace).withName(name).delete().isEmpty();
    }

    /** The object as a JSON tree (maps, lists, strings, numbers), for printing and JSONPath. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> tree(Object object) {
        return Serialization.jsonMapper().convertValue(object, Map.class);
    }
}
