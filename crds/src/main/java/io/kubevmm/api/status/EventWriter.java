package io.kubevmm.api.status;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.MicroTime;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.UUID;
import java.util.logging.Level;
import java.util.logging.Logger;

/** Writes core/v1 Events about KubeVMM objects, as {@code kubectl describe} shows them. */
public final class EventWriter {
    /** A MicroTime as the API server parses it: exactly six fractional digits (a Java Instant may have nine). */
    private static final DateTimeFormatter MICRO_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSX").withZone(ZoneOffset.UTC);

    private static final Logger LOG = Logger.getLogger(EventWriter.class.getName());

    private final KubernetesClient client;
    private final String component;
    private final String instance;

    /** @param component who reports (kubevmm-operator, kubevmm-node); @param instance which one (pod or node name) */
    public EventWriter(KubernetesClient client, String component, String instance) {
        this.client = client;
        this.component = component;
        this.instance = instance;
    }

    public void normal(HasMetadata object, String reason, String message) {
        write(object, "Normal", reason, message);
    }

    public void warning(HasMetadata object, String reason, String message) {
        write(object, "Warning", reason, message);
    }

    private void write(HasMetadata object, String type, String reason, String message) {
        Instant instant = Instant.now();
        String now = instant.truncatedTo(ChronoUnit.SECONDS).toString();
        String namespace = object.getMetadata().getNamespace() == null ? "default" : object.getMetadata().getNamespace();
        var event = new EventBuilder()
                .withNewMetadata()
                    .withName(object.getMetadata().getName() + "." + UUID.randomUUID().toString().replace("-", "").substring(0, 12))
                    .withNamespace(namespace)
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
                .withEventTime(new MicroTime(MICRO_TIME.format(instant)))
                .withCount(1)
                .withReportingComponent(component)
                .withReportingInstance(instance)
                .withNewSource().withComponent(component).withHost(instance).endSource()
                .withAction(reason)
                .build();
        try {
            client.v1().events().resource(event).create();
        } catch (KubernetesClientException e) {
            LOG.log(Level.WARNING, "cannot record event {0} on {1}/{2}: {3}",
                    new Object[]{reason, object.getKind(), object.getMetadata().getName(), e.getMessage()});
        }
    }
}
