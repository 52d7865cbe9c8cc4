package io.kubevmm.operator.network;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.kubevmm.api.v1alpha1.VMNetwork;
import io.kubevmm.api.v1alpha1.VMNetworkStatus;

/**
 * The one way a VMNetwork's status is written: a JSON Patch of its status subresource that sets
 * metadata.resourceVersion to the version the writer read and replaces the whole status. The API
 * server takes a resourceVersion in the patched object as a precondition and answers 409 Conflict
 * when the object changed since (so does the unit tests' in-JVM server, which does not check the
 * resourceVersion of a plain status update). Whole-status replacement keeps the allocations list
 * exactly as computed: a merge patch would merge lists on that server.
 */
public final class NetworkStatusWriter {
    private static final ObjectMapper JSON = new ObjectMapper().setSerializationInclusion(JsonInclude.Include.NON_NULL);

    private NetworkStatusWriter() { }

    /** The patch; public for tests that check the server refuses a stale one. */
    public static String patch(String resourceVersion, VMNetworkStatus status) {
        ArrayNode patch = JSON.createArrayNode();
        patch.addObject().put("op", "replace").put("path", "/metadata/resourceVersion").put("value", resourceVersion);
        patch.addObject().put("op", "add").put("path", "/status").set("value", JSON.valueToTree(status));
        return patch.toString();
    }

    /** Writes {@code status} over {@code asRead} (the network as the caller read it); false on 409 Conflict. */
    public static boolean write(KubernetesClient client, VMNetwork asRead, VMNetworkStatus status) {
        try {
            client.resources(VMNetwork.class).withName(asRead.getMetadata().getName()).subresource("status")
                    .patch(PatchContext.of(PatchType.JSON), patch(asRead.getMetadata().getResourceVersion(), status));
            return true;
        } catch (KubernetesClientException e) {
            if (e.getCode() == 409) {
                return false;
            }
            throw e;
        }
    }
}
