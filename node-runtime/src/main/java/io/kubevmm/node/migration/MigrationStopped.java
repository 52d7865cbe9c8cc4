package io.kubevmm.node.migration;

import io.kubevmm.api.v1alpha1.VMMigrationStatus.Phase;

/** A migration that ended before completion: cancelled by the user, or failed/aborted with a reason. */
final class MigrationStopped extends RuntimeException {
    private final Phase phase;
    private final String reason;

    MigrationStopped(Phase phase, String reason, String message) {
        super(message);
        this.phase = phase;
        this.reason = reason;
    }

    Phase phase() { return phase; }

    String reason() { return reason; }
}
