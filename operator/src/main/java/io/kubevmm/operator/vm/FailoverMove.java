package io.kubevmm.operator.vm;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.kubevmm.api.status.ConditionTypes;
import io.kubevmm.api.status.StatusPatch;
import io.kubevmm.api.v1alpha1.HighAvailabilitySpec;
import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.Labels;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceStatus;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Moves a VM's instance off a lost, fenced node: the same VirtualMachineInstance object, its
 * {@code spec.nodeName} and node label rewritten to the target, in one JSON Patch that first
 * tests the node it was on. The object is the VM's one owner record: at every moment exactly one
 * node is named, the lost node's runtime loses its right to it (its status writes test the node
 * too, its informer no longer selects it) and the target's runtime, which has no state for it,
 * boots it fresh. Deleting the instance and creating a new one would need the lost node's
 * finalizer forced away, and would leave a moment with no record of where the VM is.
 */
final class FailoverMove {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final KubernetesClient client;

    FailoverMove(KubernetesClient client) {
        this.client = client;
    }

    /**
     * Resets the instance's status (what the lost node last said is not true any more), then
     * moves it. Empty when the instance is no longer on {@code from} (someone else moved it).
     */
    Optional<VirtualMachineInstance> move(VirtualMachineInstance vmi, String from, String to, String why) {
        VirtualMachineInstanceStatus fresh = new VirtualMachineInstanceStatus();
        fresh.setPhase(InstancePhase.Pending);
        fresh.setConditions(List.of(new ConditionBuilder().withType(ConditionTypes.READY).withStatus("False")
                .withReason("FailingOver").withMessage(why + ": moved to node " + to)
                .withLastTransitionTime(Instant.now().truncatedTo(ChronoUnit.SECONDS).toString()).build()));
        if (!StatusPatch.replaceStatusWhile(client, vmi, fresh, "/spec/nodeName", from)) {
            return Optional.empty();
        }
        ArrayNode patch = JSON.createArrayNode();
        patch.addObject().put("op", "test").put("path", "/spec/nodeName").put("value", from);
        patch.addObject().put("op", "replace").put("path", "/spec/nodeName").put("value", to);
        patch.addObject().put("op", "add").put("path", "/metadata/labels/" + Labels.NODE.replace("~", "~0").replace("/", "~1"))
                .put("value", to);
        if (vmi.getSpec().getRestoreFrom() != null) {
            // A guest restored from a snapshot boots afresh elsewhere: the snapshot's node is not the target.
            patch.addObject().put("op", "remove").put("path", "/spec/restoreFrom");
        }
        try {
            return Optional.of(client.resources(VirtualMachineInstance.class).inNamespace(vmi.getMetadata().getNamespace())
                    .withName(vmi.getMetadata().getName()).patch(PatchContext.of(PatchType.JSON), patch.toString()));
        } catch (KubernetesClientException e) {
            if (e.getCode() == 422) {
                return Optional.empty(); // the test failed: it is no longer on the lost node
            }
            throw e;
        }
    }

    /** Keeps the instance's fence annotation as the VM's highAvailability mode says (a mode edited later). */
    VirtualMachineInstance syncFenceAnnotation(VirtualMachineInstance current, VirtualMachineInstance desired) {
        String want = desired.getMetadata().getAnnotations() == null ? null
                : desired.getMetadata().getAnnotations().get(HighAvailabilitySpec.FENCE_ANNOTATION);
        String have = current.getMetadata().getAnnotations() == null ? null
                : current.getMetadata().getAnnotations().get(HighAvailabilitySpec.FENCE_ANNOTATION);
        if (Objects.equals(want, have)) {
            return current;
        }
        var annotations = JSON.createObjectNode();
        if (want == null) {
            annotations.putNull(HighAvailabilitySpec.FENCE_ANNOTATION);
        } else {
            annotations.put(HighAvailabilitySpec.FENCE_ANNOTATION, want);
        }
        var patch = JSON.createObjectNode();
        patch.putObject("metadata").set("annotations", annotations);
        return client.resources(VirtualMachineInstance.class).inNamespace(current.getMetadata().getNamespace())
                .withName(current.getMetadata().getName()).patch(PatchContext.of(PatchType.JSON_MERGE), patch.toString());
    }
}
