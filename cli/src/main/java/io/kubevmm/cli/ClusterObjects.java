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
import java.util.regex.Pattern;

/**
 * KubeVMM objects read and written as plain JSON trees (fabric8 generic resources), so the CLI
 * shows every field the server has, including ones newer than this CLI's model. Writes are
 * creates and JSON merge patches only: the local cluster's API server has no server-side apply.
 */
final class ClusterObjects {
    /** Kubernetes object names (RFC 1123 subdomain) and namespaces (RFC 1123 label). */
    private static final Pattern SUBDOMAIN = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
    private static final Pattern LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");

    private final KubernetesClient client;

    ClusterObjects(KubernetesClient client) {
        this.client = client;
    }

    /**
     * Refuses a name the API server could never hold before it reaches a URL: a name with a
     * space or a slash would otherwise come back as a confusing transport error.
     */
    static String checkedName(Kind kind, String name) {
        if (name == null || name.length() > 253 || !SUBDOMAIN.matcher(name).matches()) {
            throw new CliException("invalid " + kind.singular() + " name \"" + name + "\": a name is lowercase letters, digits,"
                    + " '-' and '.', starts and ends with a letter or digit, at most 253 characters (example: demo)");
        }
        return name;
    }

    static String checkedNamespace(String namespace) {
        if (namespace != null && (namespace.length() > 63 || !LABEL.matcher(namespace).matches())) {
            throw new CliException("invalid namespace \"" + namespace + "\": a namespace is lowercase letters, digits and '-',"
                    + " starts and ends with a letter or digit, at most 63 characters (example: default)");
        }
        return namespace;
    }

    private Resource<GenericKubernetesResource> named(Kind kind, String namespace, String name) {
        return in(kind, namespace).withName(checkedName(kind, name));
    }

    private NonNamespaceOperation<GenericKubernetesResource, GenericKubernetesResourceList, Resource<GenericKubernetesResource>> in(
            Kind kind, String namespace) {
        checkedNamespace(namespace);
        MixedOperation<GenericKubernetesResource, GenericKubernetesResourceList, Resource<GenericKubernetesResource>> all =
                client.genericKubernetesResources(kind.context());
        return kind.namespaced() ? all.inNamespace(namespace) : all;
    }

    Optional<GenericKubernetesResource> find(Kind kind, String namespace, String name) {
        return Optional.ofNullable(named(kind, namespace, name).get());
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
                : op.inNamespace(checkedNamespace(namespace)).list().getItems();
        return items.stream().sorted(Comparator
                .comparing((GenericKubernetesResource r) -> String.valueOf(r.getMetadata().getNamespace()))
                .thenComparing(r -> r.getMetadata().getName())).toList();
    }

    GenericKubernetesResource create(Kind kind, String namespace, GenericKubernetesResource object) {
        return in(kind, namespace).resource(object).create();
    }

    /** RFC 7386 merge patch: touches only the fields named, never status. */
    GenericKubernetesResource mergePatch(Kind kind, String namespace, String name, Map<String, Object> patch) {
        return named(kind, namespace, name).patch(PatchContext.of(PatchType.JSON_MERGE), ObjectOutput.compactJson(patch));
    }

    boolean delete(Kind kind, String namespace, String name) {
        return !named(kind, namespace, name).delete().isEmpty();
    }

    /** The object as a JSON tree (maps, lists, strings, numbers), for printing and JSONPath. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> tree(Object object) {
        return Serialization.jsonMapper().convertValue(object, Map.class);
    }
}
