package io.kubevmm.node.controller;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.MicroTime;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.kubevmm.node.config.NodeConfig;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.time.Instant;
import java.util.UUID;

/** Writes Kubernetes Events about objects this node runtime acts on. */
@ApplicationScoped
public class EventRecorder {
    private static final Logger LOG = Logger.getLogger(EventRecorder.class);

    private final KubernetesClient client;
    private final String component;
    private final String host;

    EventRecorder(KubernetesClient client, NodeConfig config) {
        this.client = client;
        this.component = "kubevmm-node";
        this.host = config.name();
    }

    public void normal(HasMetadata object, String reason, String message) {
        record(object, "Normal", reason, message);
    }

    public void warning(HasMetadata object, String reason, String message) {
        record(object, "Warning", reason, message);
    }

    private void record(HasMetadata object, String type, String reason, String message) {
        String now = Instant.now().toString();
        var event = new EventBuilder()
                .withNewMetadata()
                    .withName(object.getMetadata().getName() + "." + UUID.randomUUID().toString().substring(0, 13).replace("-", ""))
                    .withNamespace(object.getMetadata().getNamespace() == null ? "default" : object.getMetadata().getNamespace())
                .endMetadata()
                .withNewInvolvedObject()
                    .withApiVersion(object.getApiVersion())
                    .withKind(object.getKind())
                    .withName(object.getMetadata().getName())
                    .withNamespace(object.getMetadata().getNamespace())
                    .withUid(object.getMetadata().getUid())
                .endInvolvedObject()
                .withType(type)
                .withReason(reason)
                .withMessage(message)
                .withFirstTimestamp(now)
                .withLastTimestamp(now)
                .withEventTime(new MicroTime(now))
                .withCount(1)
                .withReportingComponent(component)
                .withReportingInstance(host)
                .withNewSource().withComponent(component).withHost(host).endSource()
                .withAction(reason)
                .build();
        try {
            client.v1().events().resource(event).create();
        } catch (KubernetesClientException e) {
            LOG.warnf("cannot record event %s on %s/%s: %s", reason, object.getKind(), object.getMetadata().getName(), e.getMessage());
        }
    }
}
