package io.kubevmm.node.lifecycle;

import io.kubevmm.api.v1alpha1.InstancePhase;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

/**
 * A consistent snapshot of what a runner knows about its VM, for status and metrics.
 * {@code restartWait} is set while the crash-loop backoff holds back a restart.
 */
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
        Path consoleLog,
        RestartWait restartWait,
        io.kubevmm.node.agent.AgentState agent,
        Stop lastStop) {

    /**
     * How the guest was last brought down by a stop: {@code way} is {@code agent}, {@code acpi} or
     * {@code killed}; {@code message} says it in words, for an Event.
     */
    public record Stop(String way, String message, Instant at) { }

    /** Why the last operation or the guest failed; {@code reason} is a CamelCase word for conditions. */
    public record Failure(String reason, String message, Instant time) { }

    /**
     * A restart of a guest that keeps going down, held back by the crash-loop backoff.
     *
     * @param restart which restart in a row it will be (2 = the first that waits)
     * @param delay   how long it waits after the guest went down
     * @param at      when it happens
     */
    public record RestartWait(int restart, Duration delay, Instant at) { }

    public boolean ready() {
        return guestReadyTime != null && machine == MachineState.RUNNING && inFlight == Action.NONE;
    }
}
