package io.kubevmm.node.lifecycle;

import io.kubevmm.api.v1alpha1.InstancePhase;

import java.nio.file.Path;
import java.time.Instant;

/** A consistent snapshot of what a runner knows about its VM, for status and metrics. */
public record VmObservation(
        InstancePhase phase,
        MachineState machine,
        Action inFlight,
        Long pid,
        Instant createdTime,
        Instant startedTime,
        Instant guestReadyTime,
        Long bootMillis,
        int restartCount,
        Failure lastFailure,
        Path suspendStateFile,
        Path consoleLog) {

    /** Why the last operation or the guest failed; {@code reason} is a CamelCase word for conditions. */
    public record Failure(String reason, String message, Instant time) { }

    public boolean ready() {
        return guestReadyTime != null && machine == MachineState.RUNNING && inFlight == Action.NONE;
    }
}
