package io.kubevmm.api.status;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;

import java.util.Iterator;
import java.util.Map;

/**
 * JSON merge patches (RFC 7386), the only way KubeVMM writes status and metadata. A merge patch
 * is valid whether or not the stored object has a field (a JSON Patch {@code replace} of a field
 * the stored object lacks is rejected), and each writer sends only its own fields, so concurrent
 * writers do not undo each other. Merge patches work on every API server, the test one included,
 * where server-side apply does not. Every write goes through {@link ApiRetry}.
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

    /**
     * Makes the object's status {@code status}, for its one writer: fields {@code previous} (the
     * status as last read) has and {@code status} lacks are removed, the rest merged.
     */
    public static <T extends HasMetadata> T replaceStatus(KubernetesClient client, T object, Object previous, Object status) {
        ObjectNode patch = JSON.createObjectNode();
        patch.set("status", diff(tree(previous), tree(status)));
        return send(client, object, patch, true);
    }

    /** Makes the object's spec {@code spec} the same way (fields of {@code previous} that {@code spec} lacks are removed). */
    public static <T extends HasMetadata> T replaceSpec(KubernetesClient client, T object, Object previous, Object spec) {
        ObjectNode patch = JSON.createObjectNode();
        patch.set("spec", diff(tree(previous), tree(spec)));
        return send(client, object, patch, false);
    }

    /** Merges labels into the object's metadata. */
    public static <T extends HasMetadata> T labels(KubernetesClient client, T object, Map<String, String> labels) {
        ObjectNode patch = JSON.createObjectNode();
        patch.putObject("metadata").set("labels", JSON.valueToTree(labels));
        return send(client, object, patch, false);
    }

    /**
     * The merge patch that turns {@code before} into {@code after}: objects are merged key by key,
     * a key only {@code before} has becomes null (removed), anything else is {@code after}'s value.
     */
    static JsonNode diff(JsonNode before, JsonNode after) {
        if (after == null || after.isNull()) {
            return JSON.nullNode();
        }
        if (before == null || !before.isObject() || !after.isObject()) {
            return after;
        }
        ObjectNode patch = JSON.createObjectNode();
        for (Iterator<Map.Entry<String, JsonNode>> it = after.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            patch.set(field.getKey(), diff(before.get(field.getKey()), field.getValue()));
        }
        for (Iterator<String> it = before.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!after.has(name)) {
                patch.putNull(name);
            }
        }
        return patch;
    }

    private static JsonNode tree(Object value) {
        return value == null ? null : JSON.valueToTree(value);
    }

    @SuppressWarnings("unchecked")
    private static <T extends HasMetadata> T send(KubernetesClient client, T object, ObjectNode patch, boolean toStatus) {
        var kind = client.resources((Class<T>) object.getClass());
        String namespace = object.getMetadata().getNamespace();
        var resource = (namespace == null ? kind : kind.inNamespace(namespace)).withName(object.getMetadata().getName());
        PatchContext merge = PatchContext.of(PatchType.JSON_MERGE);
        String what = (toStatus ? "status" : "metadata/spec") + " of " + object.getKind() + " "
                + (namespace == null ? "" : namespace + "/") + object.getMetadata().getName();
        String body = patch.toString();
        return ApiRetry.write(what, () -> toStatus ? resource.subresource("status").patch(merge, body) : resource.patch(merge, body));
    }
}
