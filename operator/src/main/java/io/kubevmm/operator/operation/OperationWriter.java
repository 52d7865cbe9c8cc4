package io.kubevmm.operator.operation;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.kubevmm.api.status.EventWriter;
import io.kubevmm.api.status.StatusPatch;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * The part every operation reconciler (migration, snapshot, restore) shares, around its own pure
 * {@code next}: each reconcile begins by clearing an error shown earlier ({@link #begin}), admits,
 * hands over and follows the nodes' facts as {@code next} says, and writes each step through
 * {@link #write}, the one writer of the operator's status fields (one JSON Patch {@code add} per
 * field, so the nodes' fact blocks stay as they wrote them), with an Event and the metrics
 * {@code <prefix>.phases} and, for outcomes, {@code <prefix>.outcomes}. A reconcile that throws
 * shows in status through {@link #failed} (the SDK's error-status hook).
 *
 * @param <R> the operation's resource
 * @param <S> its status type
 */
public final class OperationWriter<R extends HasMetadata, S> {
    private final KubernetesClient client;
    private final EventWriter events;
    private final MeterRegistry metrics;
    private final String prefix;
    private final Set<String> outcomes;
    private final Function<R, S> statusOf;
    private final Function<S, List<Condition>> conditionsOf;
    private final Function<List<Condition>, S> conditionsOnly;

    /**
     * @param prefix         metric name prefix, e.g. {@code kubevmm.migration}
     * @param outcomes       the phases that end the operation
     * @param conditionsOnly a status holding only the given conditions
     */
    public OperationWriter(KubernetesClient client, EventWriter events, MeterRegistry metrics, String prefix, Set<String> outcomes,
                           Function<R, S> statusOf, Function<S, List<Condition>> conditionsOf, Function<List<Condition>, S> conditionsOnly) {
        this.client = client;
        this.events = events;
        this.metrics = metrics;
        this.prefix = prefix;
        this.outcomes = outcomes;
        this.statusOf = statusOf;
        this.conditionsOf = conditionsOf;
        this.conditionsOnly = conditionsOnly;
    }

    /** A phase change: what its Event says. */
    public record Change(String phase, String reason, String message, boolean warning) { }

    /** Start of a reconcile: the object as stored once a reconcile error shown earlier is cleared. */
    public R begin(R object) {
        return ReconcileErrors.clear(client, object, conditions(object), conditionsOnly::apply);
    }

    /** Writes the operator's fields of {@code status}; {@code change} null for figures alone. */
    public UpdateControl<R> write(R object, S status, Change change, long recheckMillis) {
        StatusPatch.statusFields(client, object, status, statusOf.apply(object) != null);
        if (change != null) {
            if (change.warning()) {
                events.warning(object, change.reason(), change.message());
            } else {
                events.normal(object, change.reason(), change.message());
            }
            metrics.counter(prefix + ".phases", "phase", change.phase()).increment();
            if (outcomes.contains(change.phase())) {
                metrics.counter(prefix + ".outcomes", "outcome", change.phase(), "reason", change.reason()).increment();
            }
        }
        return after(recheckMillis);
    }

    /** The SDK's error-status hook: the error shows in status and as an Event while the SDK retries. */
    public ErrorStatusUpdateControl<R> failed(R object, Exception e) {
        return ReconcileErrors.show(client, events, object, conditions(object), statusOf.apply(object) != null,
                conditionsOnly::apply, e);
    }

    public EventWriter events() {
        return events;
    }

    /** Nothing more now; look again after {@code millis} (0: only when something changes). */
    public static <R extends HasMetadata> UpdateControl<R> after(long millis) {
        return millis > 0 ? UpdateControl.<R>noUpdate().rescheduleAfter(millis) : UpdateControl.noUpdate();
    }

    private List<Condition> conditions(R object) {
        S status = statusOf.apply(object);
        return status == null ? null : conditionsOf.apply(status);
    }
}
