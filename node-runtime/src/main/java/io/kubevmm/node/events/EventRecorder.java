package io.kubevmm.node.events;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubevmm.api.status.EventWriter;
import io.kubevmm.node.config.NodeConfig;
import jakarta.enterprise.context.ApplicationScoped;

/** Kubernetes Events from this node runtime, reported as component kubevmm-node, instance = node name. */
@ApplicationScoped
public class EventRecorder {
    private final EventWriter writer;

    EventRecorder(KubernetesClient client, NodeConfig config) {
        this.writer = new EventWriter(client, "kubevmm-node", config.name());
    }

    public void normal(HasMetadata object, String reason, String message) {
        writer.normal(object, reason, message);
    }

    public void warning(HasMetadata object, String reason, String message) {
        writer.warning(object, reason, message);
    }
}
