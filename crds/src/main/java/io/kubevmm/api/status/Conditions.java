package io.kubevmm.api.status;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Builds a condition list the Kubernetes way: lastTransitionTime moves only when a condition's
 * status changes, observedGeneration is stamped on each. Used by every status writer.
 */
public final class Conditions {
    private final List<Condition> previous;
    private final List<Condition> result = new ArrayList<>();
    private final long generation;
    private final Instant now;

    public Conditions(List<Condition> previous, long generation) {
        this(previous, generation, null);
    }

    /** With the instant a condition that changes now gets as its lastTransitionTime (null: the clock). */
    public Conditions(List<Condition> previous, long generation, Instant now) {
        this.previous = previous == null ? List.of() : previous;
        this.generation = generation;
        this.now = now;
    }

    public Conditions set(String type, boolean status, String reason, String message) {
        String value = status ? "True" : "False";
        String since = previous.stream()
                .filter(c -> type.equals(c.getType()) && value.equals(c.getStatus()))
                .map(Condition::getLastTransitionTime)
                .filter(Objects::nonNull)
                .findFirst()
                .orElseGet(() -> (now == null ? Instant.now() : now).toString());
        result.add(new ConditionBuilder().withType(type).withStatus(value).withReason(reason).withMessage(message)
                .withLastTransitionTime(since).withObservedGeneration(generation).build());
        return this;
    }

    public List<Condition> build() {
        return List.copyOf(result);
    }

    /**
     * The conditions set here, then every previous condition of another type as it was: for the
     * one writer of a list, so a condition it does not touch in this write is not lost.
     */
    public List<Condition> buildKeepingOthers() {
        List<Condition> all = new ArrayList<>(result);
        for (Condition c : previous) {
            if (result.stream().noneMatch(r -> r.getType().equals(c.getType()))) {
                all.add(c);
            }
        }
        return List.copyOf(all);
    }

    /** The condition of {@code type} in {@code conditions}, if present. */
    public static java.util.Optional<Condition> find(List<Condition> conditions, String type) {
        return conditions == null ? java.util.Optional.empty()
                : conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
    }

    public static boolean isTrue(List<Condition> conditions, String type) {
        return find(conditions, type).map(c -> "True".equals(c.getStatus())).orElse(false);
    }
}
