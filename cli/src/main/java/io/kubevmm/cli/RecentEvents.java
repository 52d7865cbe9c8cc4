package io.kubevmm.cli;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Comparator;
import java.util.List;

/** The Events about some objects, oldest first, as the tail of {@code describe}. */
final class RecentEvents {
    static final int LIMIT = 20;

    private RecentEvents() { }

    /** Events whose involvedObject is {@code kind/name} for any of the given kinds (e.g. the VM and its VMI). */
    static List<Event> about(KubernetesClient client, Kind kind, String namespace, String name, List<Kind> kinds) {
        // Cluster-scoped objects get their events in some namespace (EventWriter uses default): look everywhere.
        var events = kind.namespaced() ? client.v1().events().inNamespace(namespace) : client.v1().events().inAnyNamespace();
        List<String> kindNames = kinds.stream().map(Kind::kindName).toList();
        List<Event> matching = events.list().getItems().stream()
                .filter(e -> e.getInvolvedObject() != null && name.equals(e.getInvolvedObject().getName())
                        && kindNames.contains(e.getInvolvedObject().getKind()))
                .sorted(Comparator.comparing(e -> instant(lastTime(e))))
                .toList();
        return matching.subList(Math.max(0, matching.size() - LIMIT), matching.size());
    }

    private static Instant instant(String timestamp) {
        try {
            return timestamp == null ? Instant.EPOCH : Instant.parse(timestamp);
        } catch (DateTimeParseException e) {
            return Instant.EPOCH;
        }
    }

    /** When the event last happened, whichever of the timestamp fields its writer filled. */
    static String lastTime(Event e) {
        if (e.getLastTimestamp() != null) {
            return e.getLastTimestamp();
        }
        if (e.getEventTime() != null && e.getEventTime().getTime() != null) {
            return e.getEventTime().getTime();
        }
        return e.getFirstTimestamp() != null ? e.getFirstTimestamp() : e.getMetadata().getCreationTimestamp();
    }
}
