package io.kubevmm.operator.operation;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.status.EventWriter;
import io.kubevmm.api.status.StatusPatch;
import org.jboss.logging.Logger;

import java.util.List;
import java.util.function.Function;

/**
 * How the operation reconcilers (migration, snapshot, restore) show a reconcile that threw, as
 * java-operator-sdk's error-status hook ({@code updateErrorStatus}) lets them: condition
 * {@value #TYPE} True with the error's message in the object's status and a Warning Event, while
 * the SDK retries. The next reconcile that gets through sets the condition False again.
 */
public final class ReconcileErrors {
    public static final String TYPE = "ReconcileError";
    private static final Logger LOG = Logger.getLogger(ReconcileErrors.class);

    private ReconcileErrors() { }

    /**
     * @param conditions the object's current conditions
     * @param status     makes the object's status type holding only the given conditions
     */
    public static <T extends HasMetadata> ErrorStatusUpdateControl<T> show(KubernetesClient client, EventWriter events, T object,
                                                                           List<Condition> conditions, boolean hasStatus,
                                                                           Function<List<Condition>, Object> status, Exception e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        try {
            StatusPatch.statusFields(client, object, status.apply(new Conditions(conditions, generation(object))
                    .set(TYPE, true, e.getClass().getSimpleName(), message).buildKeepingOthers()), hasStatus);
            events.warning(object, TYPE, "reconcile failed (retrying): " + message);
        } catch (RuntimeException write) {
            LOG.warnf("cannot show the reconcile error of %s %s (%s): %s", object.getKind(), object.getMetadata().getName(),
                    message, write.getMessage());
        }
        return ErrorStatusUpdateControl.noStatusUpdate();
    }

    /**
     * At the start of a reconcile: an error shown earlier is over once the API answers again.
     *
     * @return the object as stored after that write (its conditions are what the phases build on), or {@code object}
     */
    public static <T extends HasMetadata> T clear(KubernetesClient client, T object, List<Condition> conditions,
                                                  Function<List<Condition>, Object> status) {
        if (!Conditions.isTrue(conditions, TYPE)) {
            return object;
        }
        return StatusPatch.statusFields(client, object, status.apply(new Conditions(conditions, generation(object))
                .set(TYPE, false, "Reconciled", "the API answers again").buildKeepingOthers()), true);
    }

    private static long generation(HasMetadata object) {
        return object.getMetadata().getGeneration() == null ? 0 : object.getMetadata().getGeneration();
    }
}
