package io.kubevmm.node.migration;

import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VMMigrationStatus.Phase;

/**
 * VMMigrations arriving at this node ({@code kubevmm.io/target-node=<this node>}, selector in
 * application.properties): prepares the incoming emulator once the operator has scheduled one.
 * The target's watcher notices by itself when the migration ends without arriving.
 */
// Phases are status: every status change must reach the reconciler, not only spec (generation) changes.
@ControllerConfiguration(name = MigrationTargetReconciler.NAME, generationAwareEventProcessing = false)
public class MigrationTargetReconciler implements Reconciler<VMMigration> {
    static final String NAME = "migration-target";

    /** How often a target that downloads the VM's base images reports progress and checks whether they are there. */
    private static final java.time.Duration IMAGE_RECHECK = java.time.Duration.ofSeconds(2);

    private final TargetMigrations targets;

    MigrationTargetReconciler(TargetMigrations targets) {
        this.targets = targets;
    }

    @Override
    public UpdateControl<VMMigration> reconcile(VMMigration migration, Context<VMMigration> context) {
        var status = migration.getStatus();
        // A target that reported it failed does not try again: the operator ends the migration on that fact.
        boolean gaveUp = status != null && status.getTarget() != null && status.getTarget().getFailedTime() != null;
        if (status != null && status.getPhase() == Phase.Scheduling && !Boolean.TRUE.equals(migration.getSpec().getCancel())
                && !gaveUp && !targets.isReceiving(migration.getMetadata().getUid())) {
            if (!targets.prepare(migration)) {
                return UpdateControl.<VMMigration>noUpdate().rescheduleAfter(IMAGE_RECHECK);
            }
        }
        return UpdateControl.noUpdate();
    }
}
