package io.kubevmm.api.status;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;

import java.util.Map;

/**
 * JSON merge patches for objects several components write (an operation's status is written by
 * the operator and by the node runtimes at both ends). Each writer sends only its own fields, so
 * concurrent writers do not undo each other; merge patches work on every API server, the test
 * one included, where server-side apply does not.
 */
public final class StatusPatch {
    private static final ObjectMapper JSON = new ObjectMapper().setSerializationInclusion(JsonInclude.Include.NON_NULL);

    private StatusPatch() { }

    /** Merges the non-null fields of {@code status} into the object's status. */
    public static <T extends HasMetadata> T status(KubernetesClient client, T object, Object status) {
        ObjectNode patch = JSON.createObjectNode();
        patch.set("status", JSON.valueToTree(status));
        return send(client, object, patch, true);
    }

    /** Merges labels into the object's metadata. */
    public static <T extends HasMetadata> T labels(KubernetesClient client, T object, Map<String, String> labels) {
        ObjectNode patch = JSON.createObjectNode();
        patch.putObject("metadata").set("labels", JSON.valueToTree(labels));
        return send(client, object, patch, false);
    }

    @SuppressWarnings("unchecked")
    private static <T extends HasMetadata> T send(KubernetesClient client, T object, ObjectNode patch, boolean toStatus) {
        var kind = client.resources((Class<T>) object.getClass());
        String namespace = object.getMetadata().getNamespace();
        var resource = (namespace == null ? kind : kind.inNamespace(namespace)).withName(object.getMetadata().getName());
        PatchContext merge = PatchContext.of(PatchType.JSON_MERGE);
        return toStatus ? resource.subresource("status").patch(merge, patch.toString()) : resource.patch(merge, patch.toString());
    }
}
