package io.kubevmm.node.lifecycle;

import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.engine.VmmInstance;
import io.kubevmm.node.lifecycle.VmObservation.Failure;
import io.kubevmm.node.lifecycle.VmObservation.RestartWait;

import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;

/**
 * What a runner knows about its VM. Written only on the VM's thread; volatile so that
 * {@link #observe()} from any thread sees a recent value.
 */
final class VmState {
    volatile VmConfig config;
    volatile Lifecycle.Desired desired;
    volatile String readinessPattern;
    volatile Duration stopGrace = Duration.ofSeconds(30);
    volatile long generation;
    volatile MachineState machine = MachineState.ABSENT;
    volatile Action inFlight = Action.NONE;
    volatile VmmInstance instance;
    volatile RuntimeRecord record = new RuntimeRecord(null, null, null, null, 0, 0);
    volatile Failure lastFailure;
    /** Failed steps in a row, and when the failed step may be tried again. */
    volatile int consecutiveFailures;
    volatile Instant retryNotBefore = Instant.EPOCH;
    /** The live process of an UNREACHABLE machine. */
    volatile ProcessHandle unreachable;
    /** An outgoing migration an earlier runtime left under way: no lifecycle step until it is settled. */
    volatile OperationIntent pendingMigration;
    /** The restart the crash-loop backoff holds back, while it waits. */
    volatile RestartWait restartWait;
    /** The VM's guest-agent connection, owned by its runner. */
    volatile io.kubevmm.node.agent.GuestAgent agent;
    /** How the last stop brought the guest down. */
    volatile VmObservation.Stop lastStop;

    VmState(VmConfig config) {
        this.config = config;
    }

    /** Keeps the runtime record in the state dir, for a node runtime that restarts. */
    void persist() {
        if (Files.isDirectory(config.stateDir())) {
            record.write(config.stateDir());
        }
    }

    VmObservation observe() {
        MachineState m = machine;
        Action a = pendingMigration != null ? Action.MIGRATE_OUT : inFlight;
        VmmInstance i = instance;
        RuntimeRecord r = record;
        ProcessHandle u = unreachable;
        VmConfig c = config;
        return new VmObservation(Lifecycle.phase(m, a), m, a, i != null ? Long.valueOf(i.pid()) : u != null ? Long.valueOf(u.pid()) : null,
                r.createdTime(), r.startedTime(), r.guestReadyTime(), r.bootMillis(), r.restartCount(), lastFailure,
                m == MachineState.SAVED_TO_DISK ? c.suspendStateFile() : null, c.consoleLog(), restartWait,
                agent == null ? io.kubevmm.node.agent.AgentState.NO_CHANNEL : agent.state(), lastStop);
    }
}
