package io.kubevmm.node.lifecycle;

import io.kubevmm.node.console.ConsoleLog;
import io.kubevmm.node.console.ReadinessWatcher;
import io.kubevmm.node.engine.EmulatorUnreachableException;
import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.engine.VmEvent;
import io.kubevmm.node.engine.VmmEngine;
import io.kubevmm.node.engine.VmmInstance;
import io.kubevmm.node.lifecycle.VmObservation.Failure;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Drives one VM towards its desired state. Every operation and every guest event is handled on
 * the VM's own thread, one at a time, so the machine state is never raced; readers get
 * {@link #observe()} snapshots.
 */
public final class VmRunner {
    private static final Logger LOG = Logger.getLogger(VmRunner.class);
    private static final Duration MAX_RETRY_DELAY = Duration.ofMinutes(5);
    private static final Duration MAX_ADOPTION_DELAY = Duration.ofMinutes(1);

    private final VmmEngine engine;
    private final ReadinessWatcher readiness;
    private final RunnerHooks hooks;
    private final ExecutorService thread;

    // Owned by the VM thread; volatile so observe() sees a recent value.
    private volatile VmConfig config;
    private volatile Lifecycle.Desired desired;
    private volatile String readinessPattern;
    private volatile Duration stopGrace = Duration.ofSeconds(30);
    private volatile long generation;
    private volatile MachineState machine = MachineState.ABSENT;
    private volatile Action inFlight = Action.NONE;
    private volatile VmmInstance instance;
    private volatile RuntimeRecord record = new RuntimeRecord(null, null, null, null, 0, 0);
    private volatile Failure lastFailure;
    private volatile long startNanos;
    private volatile int consecutiveFailures;
    private volatile long retryNotBeforeNanos;
    private volatile boolean driveQueued;
    private volatile CompletableFuture<Void> powerOffSeen = new CompletableFuture<>();
    /** The live process of an UNREACHABLE machine, and how often adoption was tried. */
    private volatile ProcessHandle unreachable;
    private volatile int adoptionAttempts;
    /** An outgoing migration an earlier runtime left under way: no lifecycle step until it is settled. */
    private volatile OperationIntent pendingMigration;

    public VmRunner(VmConfig config, VmmEngine engine, ReadinessWatcher readiness, RunnerHooks hooks) {
        this.config = config;
        this.engine = engine;
        this.readiness = readiness;
        this.hooks = hooks;
        this.thread = Executors.newSingleThreadExecutor(Thread.ofVirtual().name("vm-" + config.id()).factory());
    }

    /** Callbacks into the node: status refresh, metrics. Called on the VM thread. */
    public interface RunnerHooks {
        void changed(VmRunner runner);

        void operationDone(VmRunner runner, Action action, Duration took, boolean succeeded);

        void guestReady(VmRunner runner, Duration bootTime);

        /** Hooks for a runner nobody else watches (tests, benchmarks). */
        RunnerHooks NONE = new RunnerHooks() {
            @Override public void changed(VmRunner runner) { }
            @Override public void operationDone(VmRunner runner, Action action, Duration took, boolean succeeded) { }
            @Override public void guestReady(VmRunner runner, Duration bootTime) { }
        };
    }

    public VmConfig config() { return config; }

    /**
     * Re-attaches to what an earlier node runtime left: a live emulator process, or state saved to
     * disk. Must be called before the first {@link #converge}; completes once adopted, so the
     * first status after a node-runtime restart already shows the running guest.
     */
    public CompletableFuture<Void> adopt() {
        CompletableFuture<Void> adopted = new CompletableFuture<>();
        submit(() -> {
            try {
                adoptNow();
            } finally {
                adopted.complete(null);
            }
        });
        return adopted;
    }

    private void adoptNow() {
        RuntimeRecord.read(config.stateDir()).ifPresent(r -> record = r);
        OperationIntent intent = OperationIntent.read(config.stateDir()).orElse(null);
        Optional<VmmInstance> adopted;
        try {
            adopted = engine.adopt(config);
        } catch (EmulatorUnreachableException e) {
            leaveUnreachable(e);
            hooks.changed(this);
            return;
        }
        if (intent != null && intent.operation() == OperationIntent.Operation.SuspendToDisk) {
            new SaveRecovery(this).recover(intent, adopted.orElse(null));
            hooks.changed(this);
            return;
        }
        if (intent != null) {
            // QEMU may have sent the guest away, or still be sending it: only the target's facts
            // tell which copy is the guest (SourceMigrations settles it). Nothing is ended meanwhile.
            pendingMigration = intent;
            LOG.infof("%s: an outgoing migration (%s to %s) was under way when the node runtime stopped; holding the VM until it is settled",
                    config.id(), intent.migrationName(), intent.targetNode());
        }
        adopted.ifPresentOrElse(found -> {
            attach(found);
            machine = switch (found.runState()) {
                case CREATED -> MachineState.CREATED;
                case RUNNING -> MachineState.RUNNING;
                case PAUSED -> MachineState.PAUSED;
                case SHUTDOWN -> MachineState.POWERED_OFF;
                case CRASHED, GONE -> MachineState.CRASHED;
                case MIGRATED -> MachineState.MIGRATED;
            };
            if (machine == MachineState.MIGRATED && pendingMigration == null) {
                // Its guest completed a migration and runs elsewhere: this copy must never resume.
                LOG.infof("QEMU %d of %s finished a migration away; ending it", found.pid(), config.id());
                release();
                hooks.changed(this);
                return;
            }
            if (machine == MachineState.RUNNING && record.guestReadyTime() == null) {
                watchReadiness(record.consoleOffset());
            }
            LOG.infof("adopted QEMU %d of %s (%s)", found.pid(), config.id(), machine);
        }, () -> {
            if (Files.exists(config.suspendStateFile())) {
                machine = MachineState.SAVED_TO_DISK;
            } else if (pendingMigration != null) {
                machine = MachineState.CRASHED; // no emulator here; whether the guest lives on the target is settled later
            }
        });
        hooks.changed(this);
    }

    // ---- used by SaveRecovery and migration recovery, on the VM thread ----

    VmmInstance instanceNow() { return instance; }

    void attachRecovered(VmmInstance found) { attach(found); }

    void settled(MachineState state, Failure failure) {
        machine = state;
        if (failure != null) {
            lastFailure = failure;
        }
        persist();
    }

    void releaseEmulator() { release(); }

    /** The outgoing migration an earlier node runtime left under way here, if it is not settled yet. */
    public Optional<OperationIntent> pendingMigration() {
        return Optional.ofNullable(pendingMigration);
    }

    /** The emulator as it is now (on the VM thread, so no lifecycle step races the look). */
    public CompletableFuture<RecoveryDecision.Qemu> observeEmulator() {
        CompletableFuture<RecoveryDecision.Qemu> seen = new CompletableFuture<>();
        submit(() -> seen.complete(SaveRecovery.observe(instance)));
        return seen;
    }

    /**
     * Carries out the settlement of the pending outgoing migration. {@link RecoveryDecision.MigrationAction#CANCEL}
     * and {@code WAIT} leave it pending (look again); every other action ends it.
     */
    public CompletableFuture<Void> settleMigration(RecoveryDecision.MigrationAction action, String detail) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        submit(() -> {
            OperationIntent intent = pendingMigration;
            try {
                switch (action) {
                    case WAIT -> { }
                    case CANCEL -> {
                        if (instance != null) {
                            instance.outgoing().cancel();
                        }
                    }
                    case HAND_OVER -> {
                        // The VMI points at the target already; this copy is paused for good and goes with the state dir.
                        release();
                        machine = MachineState.MIGRATED;
                    }
                    case STAY, RESUME_HERE -> {
                        if (instance == null) {
                            machine = MachineState.CRASHED;
                        } else {
                            boolean running = intent == null || intent.wasRunning();
                            io.kubevmm.node.engine.RunState now = instance.runState();
                            // QEMU allows cont after a migration, completed (postmigrate) or not.
                            if (now != io.kubevmm.node.engine.RunState.RUNNING && (running || now == io.kubevmm.node.engine.RunState.MIGRATED)) {
                                instance.resume();
                            }
                            if (!running && instance.runState() == io.kubevmm.node.engine.RunState.RUNNING) {
                                instance.pause();
                            }
                            machine = running ? MachineState.RUNNING : MachineState.PAUSED;
                        }
                    }
                    case LOST -> {
                        release();
                        machine = MachineState.CRASHED;
                        lastFailure = new Failure("MigrationInterrupted", detail, Instant.now());
                    }
                }
                if (action != RecoveryDecision.MigrationAction.WAIT && action != RecoveryDecision.MigrationAction.CANCEL) {
                    pendingMigration = null;
                    OperationIntent.clear(config.stateDir());
                    persist();
                }
                done.complete(null);
            } catch (EngineException | RuntimeException e) {
                done.completeExceptionally(e);
            }
            hooks.changed(this);
            scheduleDrive();
        });
        return done;
    }

    /**
     * An emulator of this VM is alive but does not answer. It is neither killed (it may hold the
     * guest's only memory) nor joined by a second emulator; the reason goes into status and
     * adoption is tried again with backoff.
     */
    private void leaveUnreachable(EmulatorUnreachableException e) {
        machine = MachineState.UNREACHABLE;
        unreachable = e.process();
        adoptionAttempts++;
        long delay = Math.min(MAX_ADOPTION_DELAY.toMillis(), 1000L << Math.min(adoptionAttempts - 1, 6));
        // One wording for every attempt: the status (and its Event) changes only when something did.
        lastFailure = new Failure("EmulatorUnreachable", e.getMessage() + "; it is left running (it may hold the guest's"
                + " only memory) and adoption is retried with backoff; delete the VM to end it", Instant.now());
        LOG.warnf("%s (attempt %d; next in %d s)", lastFailure.message(), adoptionAttempts, delay / 1000);
        CompletableFuture.delayedExecutor(delay, TimeUnit.MILLISECONDS).execute(() -> submit(this::retryAdoption));
    }

    private void retryAdoption() {
        if (machine != MachineState.UNREACHABLE) {
            return; // deleted meanwhile
        }
        adoptNow();
        if (machine != MachineState.UNREACHABLE) {
            unreachable = null;
            adoptionAttempts = 0;
            if (lastFailure != null && "EmulatorUnreachable".equals(lastFailure.reason())) {
                lastFailure = null;
            }
            hooks.changed(this);
            scheduleDrive();
        }
    }

    /**
     * Asks the runner to reach {@code want}. A new {@code specGeneration} clears a terminal
     * failure so a fixed spec is tried again.
     */
    public void converge(VmConfig newConfig, Lifecycle.Desired want, String pattern, Duration grace, long specGeneration) {
        boolean changed = !want.equals(desired) || specGeneration != generation;
        submit(() -> {
            if (specGeneration != generation) {
                generation = specGeneration;
                if (machine == MachineState.FAILED || machine == MachineState.FINISHED) {
                    machine = Files.exists(config.suspendStateFile()) ? MachineState.SAVED_TO_DISK : MachineState.ABSENT;
                    lastFailure = null;
                }
                retryNotBeforeNanos = 0;
            }
            // Devices and memory of a live machine cannot change under it; they apply at the next create.
            config = newConfig;
            desired = want;
            readinessPattern = pattern;
            stopGrace = grace;
        });
        if (changed || System.nanoTime() >= retryNotBeforeNanos) {
            scheduleDrive();
        }
    }

    /** Work a migration does with the source emulator; returns once the target has the guest. */
    public interface OutgoingWork {
        void run(VmmInstance source) throws EngineException;
    }

    /**
     * Live-migrates the guest away on the VM's own thread (phase Migrating meanwhile). On success
     * this node's copy ends and the runner is terminal; on failure before switchover the guest
     * keeps running (or stays paused) here as before.
     */
    public CompletableFuture<Void> migrateOut(OperationIntent intent, OutgoingWork work) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        submit(() -> {
            if (instance == null || (machine != MachineState.RUNNING && machine != MachineState.PAUSED) || pendingMigration != null) {
                done.completeExceptionally(new EngineException(EngineException.Reason.OperationFailed,
                        "VM " + config.id() + " is " + Lifecycle.phase(machine, inFlight) + ", not running or suspended to memory"
                                + (pendingMigration == null ? "" : " (an earlier migration is not settled yet)")));
                return;
            }
            OperationIntent recorded = new OperationIntent(intent.operation(), intent.migrationName(), intent.migrationUid(),
                    intent.targetNode(), intent.startTime(), machine == MachineState.RUNNING);
            try {
                recorded.write(config.stateDir());
            } catch (IOException e) {
                done.completeExceptionally(new EngineException(EngineException.Reason.OperationFailed,
                        "cannot record the migration in " + config.stateDir() + " (needed to recover from a crash): " + e.getMessage(), e));
                return;
            }
            inFlight = Action.MIGRATE_OUT;
            hooks.changed(this);
            long t0 = System.nanoTime();
            try {
                work.run(instance);
                release();
                machine = MachineState.MIGRATED;
                done.complete(null);
            } catch (EngineException | RuntimeException e) {
                machine = afterFailedMigration();
                done.completeExceptionally(e);
            } finally {
                if (machine != MachineState.MIGRATED) {
                    OperationIntent.clear(config.stateDir()); // on success the state dir goes once the VMI is handed over
                }
                inFlight = Action.NONE;
                hooks.operationDone(this, Action.MIGRATE_OUT, Duration.ofNanos(System.nanoTime() - t0), done.isDone() && !done.isCompletedExceptionally());
                persist();
                hooks.changed(this);
            }
        });
        return done;
    }

    /** Work that needs the VM to hold still (no lifecycle step meanwhile), e.g. a snapshot. */
    public interface ExclusiveWork<T> {
        /** @param emulator the VM's running or paused emulator; null when none runs (stopped, suspended to disk) */
        T run(VmmInstance emulator, VmConfig config) throws EngineException;
    }

    /**
     * Runs {@code work} on the VM's own thread, between lifecycle steps, so nothing starts, stops
     * or moves the VM meanwhile. The VM's phase does not change.
     */
    public <T> CompletableFuture<T> exclusive(ExclusiveWork<T> work) {
        CompletableFuture<T> done = new CompletableFuture<>();
        try {
            thread.execute(() -> {
                try {
                    boolean live = instance != null && (machine == MachineState.RUNNING || machine == MachineState.PAUSED);
                    done.complete(work.run(live ? instance : null, config));
                } catch (EngineException | RuntimeException e) {
                    done.completeExceptionally(e);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            done.completeExceptionally(new EngineException(EngineException.Reason.OperationFailed,
                    "VM " + config.id() + " is being deleted"));
        }
        return done;
    }

    /** Cancels a migration QEMU may still be sending for an earlier node runtime; the guest stays here. */
    public void abortOutgoingMigration() {
        submit(() -> {
            if (instance != null) {
                instance.outgoing().cancel();
            }
        });
    }

    /** Where the guest is after a migration that did not complete: QEMU resumes it itself unless it switched over. */
    private MachineState afterFailedMigration() {
        return switch (instance.runState()) {
            case RUNNING -> MachineState.RUNNING;
            case PAUSED, CREATED -> MachineState.PAUSED;
            case GONE, CRASHED, SHUTDOWN -> MachineState.CRASHED;
            case MIGRATED -> {
                // Post-copy had switched over: the guest's memory is split between two nodes and neither copy can go on.
                lastFailure = new Failure("MigrationFailedAfterSwitchover",
                        "the migration failed after post-copy switchover; the guest's state is lost", Instant.now());
                release();
                yield MachineState.FAILED;
            }
        };
    }

    /**
     * Takes over an emulator whose guest arrived by live migration and already runs (or is
     * paused) here. {@code guestReady}: the guest had passed its readiness check before it moved.
     */
    public CompletableFuture<Void> takeOver(VmmInstance arrived, boolean guestReady) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        submit(() -> {
            attach(arrived);
            machine = arrived.runState() == io.kubevmm.node.engine.RunState.RUNNING ? MachineState.RUNNING : MachineState.PAUSED;
            Instant now = Instant.now();
            record = new RuntimeRecord(now, now, guestReady ? now : null, null, 0, 0);
            if (!guestReady) {
                watchReadiness(0);
            }
            persist();
            hooks.changed(this);
            done.complete(null);
        });
        return done;
    }

    /** Stops the guest and deletes the VM's whole state dir, disks included. */
    public CompletableFuture<Void> delete() {
        return delete(true);
    }

    /**
     * Stops the guest (gracefully when it runs) and ends its process; then deletes the VM's state
     * dir, or with {@code deleteDisks} false everything in it but its disks (a stop: disks live
     * as long as the VM).
     */
    public CompletableFuture<Void> delete(boolean deleteDisks) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        submit(() -> {
            try {
                if (instance != null && machine == MachineState.RUNNING) {
                    perform(Action.POWER_DOWN);
                }
                if (instance != null) {
                    instance.destroy();
                    instance = null;
                }
                endUnreachable();
                readiness.cancel(this);
                if (deleteDisks) {
                    deleteTree(config.stateDir());
                } else {
                    DiskRetention.keepDisksOnly(config.stateDir());
                }
                machine = MachineState.ABSENT;
                done.complete(null);
            } catch (Exception e) {
                done.completeExceptionally(e);
            }
        });
        return done.whenComplete((v, e) -> thread.shutdown());
    }

    /** The user deleted the VM: an emulator that never answered is ended now, by that decision. */
    private void endUnreachable() {
        ProcessHandle process = unreachable;
        if (process != null && machine == MachineState.UNREACHABLE) {
            LOG.infof("%s is deleted: ending QEMU %d, which never answered", config.id(), process.pid());
            process.destroyForcibly();
            process.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(e -> null).join();
            unreachable = null;
        }
    }

    public VmObservation observe() {
        MachineState m = machine;
        Action a = pendingMigration != null ? Action.MIGRATE_OUT : inFlight;
        VmmInstance i = instance;
        RuntimeRecord r = record;
        ProcessHandle u = unreachable;
        return new VmObservation(Lifecycle.phase(m, a), m, a, i != null ? Long.valueOf(i.pid()) : u != null ? Long.valueOf(u.pid()) : null,
                r.createdTime(), r.startedTime(), r.guestReadyTime(), r.bootMillis(), r.restartCount(), lastFailure,
                m == MachineState.SAVED_TO_DISK ? config.suspendStateFile() : null, config.consoleLog());
    }

    /** Earliest moment a failed operation should be retried, or null when nothing waits for a retry. */
    public Duration retryDelay() {
        long wait = retryNotBeforeNanos - System.nanoTime();
        return lastFailure != null && wait > 0 ? Duration.ofNanos(wait) : null;
    }

    private void scheduleDrive() {
        if (!driveQueued) {
            driveQueued = true;
            submit(this::drive);
        }
    }

    private void drive() {
        driveQueued = false;
        if (desired == null || pendingMigration != null) {
            return;
        }
        while (true) {
            Action action = Lifecycle.next(machine, desired);
            if (action == Action.NONE) {
                return;
            }
            inFlight = action;
            hooks.changed(this);
            long t0 = System.nanoTime();
            boolean ok = false;
            try {
                perform(action);
                ok = true;
                consecutiveFailures = 0;
                if (lastFailure != null && machine != MachineState.FAILED && machine != MachineState.CRASHED) {
                    lastFailure = null;
                }
            } catch (EngineException e) {
                onFailure(action, e);
            } finally {
                inFlight = Action.NONE;
                hooks.operationDone(this, action, Duration.ofNanos(System.nanoTime() - t0), ok);
                persist();
                hooks.changed(this);
            }
            if (!ok) {
                return;
            }
        }
    }

    private void perform(Action action) throws EngineException {
        switch (action) {
            case CREATE -> {
                attach(engine.create(config));
                machine = MachineState.CREATED;
                record = new RuntimeRecord(Instant.now(), null, null, null, 0, record.restartCount());
            }
            case START -> boot(false);
            case PAUSE -> {
                instance.pause();
                machine = MachineState.PAUSED;
            }
            case RESUME -> {
                instance.resume();
                machine = MachineState.RUNNING;
                deleteQuietly(config.suspendStateFile()); // the restored guest now runs: its saved copy is stale
            }
            case SAVE_TO_DISK -> {
                VmmInstance current = instance;
                try {
                    // QEMU finishes a save on its own: a runtime restarted meanwhile must know one was under way.
                    OperationIntent.suspendToDisk(machine == MachineState.RUNNING).write(config.stateDir());
                } catch (IOException e) {
                    throw new EngineException(EngineException.Reason.OperationFailed, "cannot record the suspend in "
                            + config.stateDir() + " (needed to recover from a crash): " + e.getMessage(), e);
                }
                instance = null;
                try {
                    long bytes = current.saveState();
                    LOG.infof("%s saved %d bytes of state to %s", config.id(), bytes, config.suspendStateFile());
                } catch (EngineException e) {
                    instance = current; // the guest is still there, paused: keep it
                    machine = MachineState.PAUSED;
                    throw e;
                } finally {
                    OperationIntent.clear(config.stateDir());
                }
                machine = MachineState.SAVED_TO_DISK;
            }
            case RESTORE_FROM_DISK -> {
                attach(engine.restore(config));
                machine = MachineState.PAUSED;
            }
            case POWER_DOWN -> powerDown();
            case RECREATE -> {
                release();
                machine = MachineState.ABSENT;
            }
            case RESTART_GUEST -> {
                if (instance != null) {
                    instance.reset();
                } else {
                    attach(engine.create(config));
                }
                boot(true);
            }
            case DISCARD_SAVED_STATE -> {
                deleteQuietly(config.suspendStateFile());
                machine = MachineState.ABSENT;
            }
            case FINISH -> {
                release();
                machine = MachineState.FINISHED;
            }
            case FAIL -> {
                release();
                machine = MachineState.FAILED;
            }
            case NONE, MIGRATE_OUT -> { }
        }
    }

    private void boot(boolean restart) throws EngineException {
        long offset = ConsoleLog.size(config.consoleLog());
        startNanos = System.nanoTime();
        instance.resume();
        machine = MachineState.RUNNING;
        record = new RuntimeRecord(record.createdTime() == null ? Instant.now() : record.createdTime(), Instant.now(),
                null, null, offset, record.restartCount() + (restart ? 1 : 0));
        watchReadiness(offset);
    }

    private void watchReadiness(long offset) {
        String pattern = readinessPattern;
        if (pattern == null || pattern.isEmpty()) {
            markReady(System.nanoTime());
            return;
        }
        readiness.watch(this, config.consoleLog(), offset, pattern, seenAt -> submit(() -> markReady(seenAt)));
    }

    private void markReady(long seenAtNanos) {
        if (machine != MachineState.RUNNING && machine != MachineState.PAUSED) {
            return;
        }
        long bootMillis = startNanos == 0 ? 0 : TimeUnit.NANOSECONDS.toMillis(seenAtNanos - startNanos);
        Instant started = record.startedTime();
        // Boxed on purpose: a guest taken over (migration, restore) has no boot time of ours, and
        // unboxing its null in a conditional would throw.
        Long boot = startNanos == 0 ? record.bootMillis() : Long.valueOf(bootMillis);
        record = new RuntimeRecord(record.createdTime(), started, Instant.now(), boot, record.consoleOffset(), record.restartCount());
        persist();
        if (startNanos != 0) {
            hooks.guestReady(this, Duration.ofMillis(bootMillis));
        }
        hooks.changed(this);
    }

    private void powerDown() throws EngineException {
        powerOffSeen = new CompletableFuture<>();
        try {
            instance.requestPowerDown();
            powerOffSeen.get(stopGrace.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            LOG.infof("%s did not power off within %s; ending its process", config.id(), stopGrace);
        } catch (Exception e) {
            LOG.debugf("%s power-down: %s", config.id(), e.getMessage());
        }
        release();
        machine = MachineState.ABSENT;
    }

    private void release() {
        readiness.cancel(this);
        if (instance != null) {
            instance.destroy();
            instance = null;
        }
    }

    private void attach(VmmInstance fresh) {
        instance = fresh;
        fresh.addListener(event -> {
            if (event instanceof VmEvent.GuestPoweredOff) {
                powerOffSeen.complete(null); // wakes a waiting POWER_DOWN at once
            }
            submit(() -> onEvent(fresh, event));
        });
    }

    private void onEvent(VmmInstance source, VmEvent event) {
        if (source != instance) {
            return; // from a process we already let go of
        }
        LOG.infof("%s: %s", config.id(), event);
        switch (event) {
            case VmEvent.GuestPoweredOff off -> machine = MachineState.POWERED_OFF;
            case VmEvent.GuestCrashed crash -> {
                machine = MachineState.CRASHED;
                lastFailure = new Failure("GuestCrashed", crash.detail(), Instant.now());
            }
            case VmEvent.GuestReset reset -> {
                startNanos = System.nanoTime();
                record = new RuntimeRecord(record.createdTime(), Instant.now(), null, null,
                        ConsoleLog.size(config.consoleLog()), record.restartCount());
                watchReadiness(record.consoleOffset());
            }
            case VmEvent.ProcessExited exit -> {
                instance = null;
                readiness.cancel(this);
                machine = MachineState.CRASHED;
                lastFailure = new Failure("EmulatorExited", "QEMU exited unexpectedly"
                        + (exit.exitCode() >= 0 ? " with code " + exit.exitCode() : "")
                        + (exit.logTail().isEmpty() ? "" : ": " + exit.logTail()), Instant.now());
            }
        }
        persist();
        hooks.changed(this);
        scheduleDrive();
    }

    private void onFailure(Action action, EngineException e) {
        LOG.warnf("%s: %s failed: %s", config.id(), action, e.getMessage());
        lastFailure = new Failure(switch (e.reason()) {
            case MissingFile -> "MissingFile";
            case EmulatorFailed -> "EmulatorFailed";
            case StateUnusable -> "SavedStateUnusable";
            case OperationFailed -> "OperationFailed";
        }, e.getMessage(), Instant.now());
        boolean cannotStart = action == Action.CREATE || action == Action.RESTORE_FROM_DISK
                || (action == Action.RESTART_GUEST && instance == null);
        if (cannotStart) {
            // Nothing runs; retrying the same spec would fail the same way. A new generation retries.
            if (instance != null) {
                release();
            }
            machine = MachineState.FAILED;
            return;
        }
        consecutiveFailures++;
        long delay = Math.min(MAX_RETRY_DELAY.toMillis(), 1000L << Math.min(consecutiveFailures, 8));
        retryNotBeforeNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delay);
    }

    private void persist() {
        if (Files.isDirectory(config.stateDir())) {
            record.write(config.stateDir());
        }
    }

    private void submit(Runnable task) {
        try {
            thread.execute(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    LOG.errorf(e, "%s: unexpected error", config.id());
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            LOG.debugf("%s is deleted; dropping a late task", config.id());
        }
    }

    private static void deleteQuietly(java.nio.file.Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.warnf("cannot delete %s: %s", file, e.getMessage());
        }
    }

    public static void deleteTree(java.nio.file.Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            for (java.nio.file.Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    @Override
    public String toString() {
        return "VmRunner[" + Objects.toString(config.id()) + "]";
    }
}
