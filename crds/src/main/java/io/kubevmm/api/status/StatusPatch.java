package io.kubevmm.api.status;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;

import java.util.Map;

/**
 * How KubeVMM writes status, spec and metadata: patches that are valid whether or not the stored
 * object has a field (a JSON Patch {@code replace} of a field the stored object lacks is
 * rejected, which once lost VMI status writes). Objects several components write get JSON merge
 * patches (RFC 7386) of only the writer's own fields, so concurrent writers do not undo each
 * other; an object's one status writer replaces the whole status ({@link #replaceStatus}). Both
 * work on every API server, also on the in-JVM one of the unit tests (fabric8's CRUD mock). Every
 * write goes through {@link ApiRetry}.
 */
public final class StatusPatch {
    private static final ObjectMapper JSON = new ObjectMapper().setSerializationInclusion(JsonInclude.Include.NON_NULL);

    private StatusPatch() { }

    /** Merges the non-null fields of {@code status} into the object's status. */
    public static <T extends HasMetadata> T status(KubernetesClient client, T object, Object status) {
        ObjectNode patch = JSON.createObjectNode();
        patch.set("status", JSON.valueToTree(status));
        return send(client, object, patch, PatchType.JSON_MERGE, true);
    }

    /**
     * Makes the object's status {@code status}, for its one writer: a JSON Patch with a single
     * {@code add} of the whole status, which RFC 6902 defines whether or not the stored object has
     * a status or any of its fields. A merge patch cannot do this everywhere: the unit tests' API
     * server (fabric8's CRUD mock) appends lists on merge, so conditions would pile up.
     */
    public static <T extends HasMetadata> T replaceStatus(KubernetesClient client, T object, Object status) {
        return send(client, object, addWhole("status", status), PatchType.JSON, true);
    }

    /**
     * {@link #replaceStatus} only while the stored object's field at {@code pointer} (a JSON
     * Pointer, e.g. {@code /spec/nodeName}) still holds {@code expected}: one JSON Patch of a
     * {@code test} and the {@code add}, so the check and the write are one step on the server. A
     * writer whose right to the status went with that field (a node runtime once its guest moved)
     * cannot overwrite the new writer's status from a reconcile that began before the handover.
     *
     * @return false when the field no longer holds {@code expected} (nothing was written)
     */
    public static <T extends HasMetadata> boolean replaceStatusWhile(KubernetesClient client, T object, Object status,
                                                                     String pointer, String expected) {
        ArrayNode patch = JSON.createArrayNode();
        patch.addObject().put("op", "test").put("path", pointer).put("value", expected);
        patch.addAll((ArrayNode) addWhole("status", status));
        try {
            send(client, object, patch, PatchType.JSON, true);
            return true;
        } catch (KubernetesClientException e) {
            if (e.getCode() == 422) {
                return false; // the test op failed: the field moved on
            }
            throw e;
        }
    }

    /**
     * Sets the non-null top-level fields of {@code status}, each replaced whole (lists too), and
     * leaves every other status field as stored: one JSON Patch with an {@code add} per field, for
     * the owner of those fields on an object whose other status blocks other components write.
     * When {@code object} (as the caller read it) has no status yet, a JSON Patch could not address
     * the fields, so the fields are merged ({@link #status}): that also keeps any block another
     * component wrote meanwhile, where adding the whole status would replace it.
     */
    public static <T extends HasMetadata> T statusFields(KubernetesClient client, T object, Object status, boolean hasStatus) {
        if (!hasStatus) {
            return status(client, object, status);
        }
        ArrayNode patch = JSON.createArrayNode();
        ObjectNode fields = JSON.valueToTree(status);
        fields.fields().forEachRemaining(f -> patch.addObject().put("op", "add").put("path", "/status/" + f.getKey())
                .set("value", f.getValue()));
        if (patch.isEmpty()) {
            return object;
        }
        return send(client, object, patch, PatchType.JSON, true);
    }

    /** Makes the object's spec {@code spec} the same way (one {@code add} of the whole spec). */
    public static <T extends HasMetadata> T replaceSpec(KubernetesClient client, T object, Object spec) {
        return send(client, object, addWhole("spec", spec), PatchType.JSON, false);
    }

    /** Merges labels into the object's metadata. */
    public static <T extends HasMetadata> T labels(KubernetesClient client, T object, Map<String, String> labels) {
        ObjectNode patch = JSON.createObjectNode();
        patch.putObject("metadata").set("labels", JSON.valueToTree(labels));
        return send(client, object, patch, PatchType.JSON_MERGE, false);
    }

    private static JsonNode addWhole(String field, Object value) {
        var op = JSON.createObjectNode().put("op", "add").put("path", "/" + field);
        op.set("value", JSON.valueToTree(value));
        return JSON.createArrayNode().add(op);
    }

    @SuppressWarnings("unchecked")
    private static <T extends HasMetadata> T send(KubernetesClient client, T object, JsonNode patch, PatchType type, boolean toStatus) {
        var kind = client.resources((Class<T>) object.getClass());
        String namespace = object.getMetadata().getNamespace();
        var resource = (namespace == null ? kind : kind.inNamespace(namespace)).withName(object.getMetadata().getName());
        PatchContext merge = PatchContext.of(type);
        String what = (toStatus ? "status" : "metadata/spec") + " of " + object.getKind() + " "
                + (namespace == null ? "" : namespace + "/") + object.getMetadata().getName();
        String body = patch.toString();
        return ApiRetry.write(what, () -> toStatus ? resource.subresource("status").patch(merge, body) : resource.patch(merge, body));
    }
}
