package io.kubevmm.node.snapshot;

import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.kubevmm.api.v1alpha1.VMSnapshot;
import io.kubevmm.api.v1alpha1.VMSnapshotStatus.Phase;
import io.kubevmm.node.engine.EngineException;
import org.jboss.logging.Logger;

/**
 * VMSnapshots handed to this node ({@code kubevmm.io/node=<this node>}, selector in
 * application.properties): takes them (reporting facts in {@code status.node}; the operator owns
 * the phase), and removes their artifacts when they are deleted (the
 * finalizer keeps a deleted VMSnapshot until its files are gone).
 */
// The operator hands a snapshot over through status and labels, which do not bump the generation.
@ControllerConfiguration(name = SnapshotNodeReconciler.NAME, generationAwareEventProcessing = false)
public class SnapshotNodeReconciler implements Reconciler<VMSnapshot>, Cleaner<VMSnapshot> {
    static final String NAME = "snapshot-node";
    private static final Logger LOG = Logger.getLogger(SnapshotNodeReconciler.class);

    private final NodeSnapshots snapshots;

    SnapshotNodeReconciler(NodeSnapshots snapshots) {
        this.snapshots = snapshots;
    }

    @Override
    public UpdateControl<VMSnapshot> reconcile(VMSnapshot snapshot, Context<VMSnapshot> context) {
        var status = snapshot.getStatus();
        if (status == null || status.getNodeName() == null) {
            return UpdateControl.noUpdate();
        }
        if (NodeSnapshots.ended(snapshot)) {
            return UpdateControl.noUpdate(); // reported; the operator moves the phase
        }
        if (NodeSnapshots.started(snapshot)) {
            if (!snapshots.isTaking(snapshot)) {
                snapshots.recover(snapshot);
            }
        } else if (status.getPhase() == null || status.getPhase() == Phase.Pending) {
            snapshots.take(snapshot);
        }
        return UpdateControl.noUpdate();
    }

    @Override
    public DeleteControl cleanup(VMSnapshot snapshot, Context<VMSnapshot> context) {
        if (snapshots.isTaking(snapshot)) {
            return DeleteControl.noFinalizerRemoval().rescheduleAfter(1000);
        }
        try {
            snapshots.delete(snapshot);
            return DeleteControl.defaultDelete();
        } catch (EngineException e) {
            LOG.warnf("Cannot delete snapshot %s yet: %s", NodeSnapshots.storeName(snapshot), e.getMessage());
            return DeleteControl.noFinalizerRemoval().rescheduleAfter(10_000);
        }
    }
}
