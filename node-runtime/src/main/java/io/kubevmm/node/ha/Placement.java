package io.kubevmm.node.ha;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.kubevmm.api.v1alpha1.HighAvailabilitySpec;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.node.config.NodeConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.nio.file.Path;
import java.util.function.BooleanSupplier;

/**
 * The boot gate of highly available guests, decided on a fresh read of the VM's instance from the
 * API server, never on the informer's cache: a node runtime that was frozen or cut off holds a
 * cache from before the operator moved the VM, and acting on it would boot a second copy once the
 * fence mark is lifted. The fresh instance also says whether the VM is highly available when its
 * state dir has lost its fence marker (a removal of the old copy's dir racing a runner the stale
 * cache made).
 */
@ApplicationScoped
public class Placement {
    private static final Logger LOG = Logger.getLogger(Placement.class);

    private final KubernetesClient client;
    private final String nodeName;

    @Inject
    Placement(KubernetesClient client, NodeConfig config) {
        this(client, config.name());
    }

    Placement(KubernetesClient client, String nodeName) {
        this.client = client;
        this.nodeName = nodeName;
    }

    /**
     * Whether the guest of state dir {@code <namespace>_<name>} may boot now. A guest that is not
     * highly available (no fence marker, instance not annotated Restart) may, as before, even when
     * the API cannot say. A highly available one only if its instance, read now, names this node
     * and {@code fencingAllows} (Lease held, fence guard running).
     */
    public boolean mayBoot(Path stateDir, BooleanSupplier fencingAllows) {
        boolean marked = FenceMarker.marked(stateDir);
        String id = stateDir.getFileName().toString();
        int sep = id.indexOf('_');
        if (sep <= 0 || sep == id.length() - 1) {
            return !marked;
        }
        VirtualMachineInstance vmi;
        try {
            vmi = client.resources(VirtualMachineInstance.class).inNamespace(id.substring(0, sep)).withName(id.substring(sep + 1)).get();
        } catch (KubernetesClientException e) {
            LOG.debugf("cannot read the instance of %s (%s)", id, e.getMessage());
            return !marked; // a marked guest waits for an answer; the boot gate asks again every second
        }
        var annotations = vmi == null ? null : vmi.getMetadata().getAnnotations();
        boolean restart = annotations != null
                && HighAvailabilitySpec.Mode.Restart.name().equals(annotations.get(HighAvailabilitySpec.FENCE_ANNOTATION));
        if (!marked && !restart) {
            return true;
        }
        String placed = vmi == null || vmi.getSpec() == null ? null : vmi.getSpec().getNodeName();
        if (!nodeName.equals(placed)) {
            LOG.debugf("%s is not placed on this node (its instance %s): not booting it", id,
                    vmi == null ? "is gone" : "names node " + placed);
            return false;
        }
        return fencingAllows.getAsBoolean();
    }
}
