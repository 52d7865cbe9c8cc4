package io.kubevmm.node.migration;

import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.kubevmm.api.v1alpha1.VMMigration;

/**
 * VMMigrations leaving this node ({@code kubevmm.io/source-node=<this node>}, selector in
 * application.properties): sends the VM once the target is ready.
 */
// Phases are status: every status change must reach the reconciler, not only spec (generation) changes.
@ControllerConfiguration(name = MigrationSourceReconciler.NAME, generationAwareEventProcessing = false)
public class MigrationSourceReconciler implements Reconciler<VMMigration> {
    static final String NAME = "migration-source";

    private final SourceMigrations sources;

    MigrationSourceReconciler(SourceMigrations sources) {
        this.sources = sources;
    }

    @Override
    public UpdateControl<VMMigration> reconcile(VMMigration migration, Context<VMMigration> context) {
        var status = migration.getStatus();
        if (status == null || status.getPhase() == null || Boolean.TRUE.equals(migration.getSpec().getCancel())) {
            return UpdateControl.noUpdate();
        }
        switch (status.getPhase()) {
            case TargetReady -> sources.start(migration);
            case Running, PostCopy -> {
                if (!sources.isSending(migration.getMetadata().getUid())) {
                    sources.recover(migration);
                }
            }
            default -> { }
        }
        return UpdateControl.noUpdate();
    }
}
