package io.kubevmm.node.migration;

import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.kubevmm.api.v1alpha1.VMMigration;

/**
 * VMMigrations leaving this node ({@code kubevmm.io/source-node=<this node>}, selector in
 * application.properties): sends the VM once the operator says the target is ready, and lets go
 * of the copy left here once the operator has handed the VMI over (phase Succeeded).
 */
// Phases are status: every status change must reach the reconciler, not only spec (generation) changes.
@ControllerConfiguration(name = MigrationSourceReconciler.NAME, generationAwareEventProcessing = false)
public class MigrationSourceReconciler implements Reconciler<VMMigration> {
    static final String NAME = "migration-source";
    private static final long RETRY_MILLIS = 1000;

    private final SourceMigrations sources;

    MigrationSourceReconciler(SourceMigrations sources) {
        this.sources = sources;
    }

    @Override
    public UpdateControl<VMMigration> reconcile(VMMigration migration, Context<VMMigration> context) {
        var status = migration.getStatus();
        if (status == null || status.getPhase() == null) {
            return UpdateControl.noUpdate();
        }
        boolean cancel = Boolean.TRUE.equals(migration.getSpec().getCancel());
        switch (status.getPhase()) {
            case TargetReady -> {
                // Once this node reported a start or an end, the operator moves on from that fact: never send twice.
                var reported = status.getSource();
                boolean acted = reported != null && (reported.getStartTime() != null || reported.getFailedTime() != null);
                if (!cancel && !acted) {
                    sources.start(migration);
                }
            }
            // Also when cancelled: a migration that QEMU may have completed while this runtime was down
            // is settled from the facts, not from the wish to cancel it.
            case Running, PostCopy -> {
                if (!sources.isSending(migration.getMetadata().getUid()) && !sources.recover(migration)) {
                    return UpdateControl.<VMMigration>noUpdate().rescheduleAfter(RETRY_MILLIS);
                }
            }
            case Succeeded -> {
                if (!sources.release(migration)) {
                    return UpdateControl.<VMMigration>noUpdate().rescheduleAfter(RETRY_MILLIS);
                }
            }
            default -> {
                // Ended meanwhile (the target gave up while this runtime was down, say): the VM's
                // runner still holds the recorded intent, and only settling it frees the VM.
                if (sources.holdsUnsettled(migration) && !sources.recover(migration)) {
                    return UpdateControl.<VMMigration>noUpdate().rescheduleAfter(RETRY_MILLIS);
                }
            }
        }
        return UpdateControl.noUpdate();
    }
}
