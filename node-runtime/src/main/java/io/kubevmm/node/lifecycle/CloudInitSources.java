package io.kubevmm.node.lifecycle;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.kubevmm.api.v1alpha1.CloudInitSpec;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.engine.EngineException.Reason;
import io.kubevmm.node.engine.VmConfig;
import jakarta.enterprise.context.ApplicationScoped;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;

/**
 * The cloud-init part of a VM's engine config: instance-id (the VirtualMachine's uid, so a clone
 * is a new instance), hostname (the VM's name), keys, network-config, and where the user-data
 * comes from. User-data from a Secret is read from the API server when the seed is written, each
 * launch, and goes nowhere but the seed: messages name the Secret and key, never its content.
 */
@ApplicationScoped
public class CloudInitSources {
    static final String EMPTY_USER_DATA = "#cloud-config\n";
    private static final String FIELD = "spec.cloudInit.userDataSecretRef";

    private final KubernetesClient client;

    CloudInitSources(KubernetesClient client) {
        this.client = client;
    }

    /** The seed {@code vmi} gets, or null when its spec has no cloudInit. */
    public VmConfig.CloudInit of(VirtualMachineInstance vmi, String ownerUid) {
        CloudInitSpec spec = vmi.getSpec().getCloudInit();
        if (spec == null) {
            return null;
        }
        String namespace = vmi.getMetadata().getNamespace();
        String instanceId = ownerUid != null ? ownerUid
                : vmi.getMetadata().getUid() != null ? vmi.getMetadata().getUid() : namespace + "/" + vmi.getMetadata().getName();
        VmConfig.CloudInit.UserData userData;
        if (spec.getUserDataSecretRef() != null) {
            CloudInitSpec.SecretKeyRef ref = spec.getUserDataSecretRef();
            userData = () -> read(namespace, ref);
        } else {
            byte[] inline = (spec.getUserData() == null ? EMPTY_USER_DATA : spec.getUserData()).getBytes(StandardCharsets.UTF_8);
            userData = () -> inline;
        }
        return new VmConfig.CloudInit(instanceId, vmi.getMetadata().getName(), spec.getSshAuthorizedKeys(), spec.getNetworkData(), userData);
    }

    /** Why {@code vmi}'s user-data Secret cannot be read now, or empty (also when it names none). */
    public Optional<String> problem(VirtualMachineInstance vmi) {
        CloudInitSpec spec = vmi.getSpec().getCloudInit();
        if (spec == null || spec.getUserDataSecretRef() == null) {
            return Optional.empty();
        }
        try {
            read(vmi.getMetadata().getNamespace(), spec.getUserDataSecretRef());
            return Optional.empty();
        } catch (EngineException e) {
            return Optional.of(e.getMessage());
        }
    }

    byte[] read(String namespace, CloudInitSpec.SecretKeyRef ref) throws EngineException {
        String secret = namespace + "/" + ref.getName();
        Secret found;
        try {
            found = client.secrets().inNamespace(namespace).withName(ref.getName()).get();
        } catch (KubernetesClientException e) {
            throw new EngineException(Reason.SecretUnavailable, FIELD + ": cannot read Secret " + secret + " (HTTP " + e.getCode()
                    + (e.getCode() == 403 ? "; the node runtime's ServiceAccount needs get on secrets, which the chart grants" : "")
                    + "); the VM starts once it can be read");
        }
        if (found == null) {
            throw new EngineException(Reason.SecretUnavailable, FIELD + ": Secret " + secret + " does not exist; create it"
                    + " (kubectl create secret generic " + ref.getName() + " --from-file=" + ref.getKey() + "=user-data.yaml); the VM starts once it does");
        }
        byte[] value;
        if (found.getData() != null && found.getData().containsKey(ref.getKey())) {
            try {
                value = Base64.getDecoder().decode(found.getData().get(ref.getKey()));
            } catch (IllegalArgumentException e) {
                throw new EngineException(Reason.SecretUnavailable, FIELD + ": key " + ref.getKey() + " of Secret " + secret + " is not base64");
            }
        } else if (found.getStringData() != null && found.getStringData().containsKey(ref.getKey())) {
            value = found.getStringData().get(ref.getKey()).getBytes(StandardCharsets.UTF_8);
        } else {
            throw new EngineException(Reason.SecretUnavailable, FIELD + ".key: Secret " + secret + " has no key " + ref.getKey()
                    + (found.getData() == null || found.getData().isEmpty() ? "" : "; its keys are " + String.join(", ", found.getData().keySet())));
        }
        if (value.length > CloudInitSpec.MAX_DOCUMENT) {
            throw new EngineException(Reason.SecretUnavailable, FIELD + ": key " + ref.getKey() + " of Secret " + secret + " has "
                    + value.length + " bytes, more than the " + CloudInitSpec.MAX_DOCUMENT + " a seed takes");
        }
        return value;
    }
}
