package io.kubevmm.node.lifecycle;

import io.kubevmm.node.agent.GuestAgent;
import io.kubevmm.node.console.ReadinessWatcher;
import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.engine.VmEvent;
import io.kubevmm.node.engine.VmmEngine;
import io.kubevmm.node.engine.VmmInstance;
import io.kubevmm.node.files.FileTree;
import io.kubevmm.node.lifecycle.VmObservation.Failure;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Drives one VM towards its desired state. Every operation and every guest event is handled on
 * the VM's own thread ({@link VmThread}), one at a time, so the machine state is never raced;
 * readers get {@link #observe()} snapshots. {@link LifecycleDriver} moves the machine step by
 * step; adoption, readiness and migration have classes of their own; this class is what the node
 * sees of them.
 */
public final class VmRunner {
    private final VmState vm;
    private final RunnerHooks hooks;
    private final RunnerTime time;
    private final VmThread thread;
    private final GuestReadiness readiness;
    private final LifecycleSteps steps;
    private final Adoption adoption;
    private final RunnerMigrations migrations;
    private final LifecycleDriver driver;

    public VmRunner(VmConfig config, VmmEngine engine, ReadinessWatcher readiness, RunnerHooks hooks) {
        this(config, engine, readiness, hooks, RunnerTime.SYSTEM);
    }

    VmRunner(VmConfig config, VmmEngine engine, ReadinessWatcher watcher, RunnerHooks hooks, RunnerTime time) {
        this.vm = new VmState(config);
        this.hooks = hooks;
        this.time = time;
        this.thread = new VmThread(config.id(), time);
        this.readiness = new GuestReadiness(this, vm, watcher, time);
        this.steps = new LifecycleSteps(this, vm, engine, readiness, time);
        this.adoption = new Adoption(this, vm, engine, readiness);
        this.migrations = new RunnerMigrations(this, vm, readiness);
        this.driver = new LifecycleDriver(this, vm, steps, readiness, time);
        this.vm.agent = new GuestAgent(config.id(), () -> submit(this::changed));
    }

    /** Callbacks into the node: status refresh, metrics. Called on the VM thread. */
    public interface RunnerHooks {
        void changed(VmRunner runner);

        void operationDone(VmRunner runner, Action action, Duration took, boolean succeeded);

        void guestReady(VmRunner runner, Duration bootTime);

        /**
         * Whether the guest may be booted now. False for a guest another node may be restarting:
         * this node can no longer prove it holds its Lease (see {@code io.kubevmm.node.ha}).
         */
        default boolean mayBoot(VmRunner runner) { return true; }

        /** Hooks for a runner nobody else watches (tests, benchmarks). */
        RunnerHooks NONE = new RunnerHooks() {
            @Override public void changed(VmRunner runner) { }
            @Override public void operationDone(VmRunner runner, Action action, Duration took, boolean succeeded) { }
            @Override public void guestReady(VmRunner runner, Duration bootTime) { }
        };
    }

    public VmConfig config() { return vm.config; }

    /**
     * The VM's guest agent: the only client of its channel. Its commands may be called from any
     * thread (a snapshot freezes through it); each waits at most its timeout.
     */
    public GuestAgent guestAgent() { return vm.agent; }

    /**
     * Re-attaches to what an earlier node runtime left: a live emulator process, or state saved to
     * disk. Must be called before the first {@link #converge}; completes once adopted, so the
     * first status after a node-runtime restart already shows the running guest.
     */
    public CompletableFuture<Void> adopt() {
        CompletableFuture<Void> adopted = new CompletableFuture<>();
        submit(() -> {
            try {
                adoption.adopt();
            } finally {
                adopted.complete(null);
            }
        });
        return adopted;
    }

    /**
     * Asks the runner to reach {@code want}. A new {@code specGeneration} clears a terminal
     * failure so a fixed spec is tried again, and forgets a crash loop.
     */
    public void converge(VmConfig newConfig, Lifecycle.Desired want, String pattern, Duration grace, long specGeneration) {
        boolean changed = !want.equals(vm.desired) || specGeneration != vm.generation;
        submit(() -> {
            if (specGeneration != vm.generation) {
                vm.generation = specGeneration;
                driver.newGeneration();
            }
            // Devices and memory of a live machine cannot change under it; they apply at the next create.
            vm.config = newConfig;
            vm.desired = want;
            vm.readinessPattern = pattern;
            vm.stopGrace = grace;
        });
        if (changed || !time.now().isBefore(vm.retryNotBefore)) {
            scheduleDrive();
        }
    }

    // ---- migration: see RunnerMigrations ----

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
        submit(() -> migrations.migrateOut(intent, work, done));
        return done;
    }

    /** The outgoing migration an earlier node runtime left under way here, if it is not settled yet. */
    public Optional<OperationIntent> pendingMigration() {
        return Optional.ofNullable(vm.pendingMigration);
    }

    /** The emulator as it is now (on the VM thread, so no lifecycle step races the look). */
    public CompletableFuture<RecoveryDecision.Emulator> observeEmulator() {
        CompletableFuture<RecoveryDecision.Emulator> seen = new CompletableFuture<>();
        submit(() -> seen.complete(SaveRecovery.observe(vm.instance)));
        return seen;
    }

    /**
     * Carries out the settlement of the pending outgoing migration. {@link RecoveryDecision.MigrationAction#CANCEL}
     * and {@code WAIT} leave it pending (look again); every other action ends it.
     */
    public CompletableFuture<Void> settleMigration(RecoveryDecision.MigrationAction action, String detail) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        submit(() -> {
            try {
                migrations.settle(action, detail);
                done.complete(null);
            } catch (EngineException | RuntimeException e) {
                done.completeExceptionally(e);
            }
            changed();
            scheduleDrive();
        });
        return done;
    }

    /** Cancels a migration QEMU may still be sending for an earlier node runtime; the guest stays here. */
    public void abortOutgoingMigration() {
        submit(() -> {
            if (vm.instance != null) {
                vm.instance.outgoing().cancel();
            }
        });
    }

    /**
     * Takes over an emulator whose guest arrived by live migration and already runs (or is
     * paused) here. {@code guestReady}: the guest had passed its readiness check before it moved.
     */
    public CompletableFuture<Void> takeOver(VmmInstance arrived, boolean guestReady) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        submit(() -> {
            migrations.takeOver(arrived, guestReady);
            changed();
            done.complete(null);
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
        boolean queued = thread.tryExecute(() -> {
            try {
                boolean live = vm.instance != null && (vm.machine == MachineState.RUNNING || vm.machine == MachineState.PAUSED);
                done.complete(work.run(live ? vm.instance : null, vm.config));
            } catch (EngineException | RuntimeException e) {
                done.completeExceptionally(e);
            }
        });
        if (!queued) {
            done.completeExceptionally(new EngineException(EngineException.Reason.OperationFailed,
                    "VM " + vm.config.id() + " is being deleted"));
        }
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
        boolean queued = thread.tryExecute(() -> {
            try {
                if (vm.instance != null && vm.machine == MachineState.RUNNING) {
                    steps.perform(Action.POWER_DOWN);
                }
                if (vm.instance != null) {
                    vm.instance.destroy();
                    vm.instance = null;
                }
                vm.agent.detach();
                adoption.endUnreachable();
                readiness.cancel();
                if (deleteDisks) {
                    FileTree.delete(vm.config.stateDir());
                } else {
                    DiskRetention.keepDisksOnly(vm.config.stateDir());
                }
                vm.machine = MachineState.ABSENT;
                thread.close(); // before the callers hear of it: nothing queued behind this may act
                done.complete(null);
            } catch (Exception e) {
                done.completeExceptionally(e);
            }
        });
        if (!queued) {
            done.complete(null); // deleted before: nothing is left to stop
        }
        return done.whenComplete((v, e) -> {
            vm.agent.close();
            thread.shutdown();
        });
    }

    public VmObservation observe() {
        return vm.observe();
    }

    /** Earliest moment a failed operation should be retried, or null when nothing waits for a retry. */
    public Duration retryDelay() {
        Duration wait = Duration.between(time.now(), vm.retryNotBefore);
        return vm.lastFailure != null && wait.isPositive() ? wait : null;
    }

    void scheduleDrive() {
        driver.scheduleDrive();
    }

    // ---- for the runner's parts (adoption, readiness, steps, migrations, SaveRecovery), on the VM thread ----

    void attach(VmmInstance fresh) {
        vm.instance = fresh;
        fresh.addListener(event -> {
            if (event instanceof VmEvent.GuestAgentChannel channel) {
                if (vm.instance == fresh) {
                    vm.agent.guestEnd(channel.open());
                }
                return; // the agent's business, not the lifecycle's
            }
            if (event instanceof VmEvent.GuestPoweredOff) {
                steps.guestPoweredOff(); // wakes a waiting POWER_DOWN at once
            }
            if (event instanceof VmEvent.ProcessExited) {
                vm.agent.detach();
            }
            submit(() -> driver.onEvent(fresh, event));
        });
        vm.agent.attach(fresh.config().hasGuestAgentChannel() ? fresh.config().guestAgentSocket() : null,
                fresh.guestAgentChannelOpen());
    }

    void release() {
        vm.agent.detach();
        readiness.cancel();
        if (vm.instance != null) {
            vm.instance.destroy();
            vm.instance = null;
        }
    }

    VmmInstance instanceNow() { return vm.instance; }

    void attachRecovered(VmmInstance found) { attach(found); }

    void releaseEmulator() { release(); }

    void settled(MachineState state, Failure failure) {
        vm.machine = state;
        if (failure != null) {
            vm.lastFailure = failure;
        }
        vm.persist();
    }

    void changed() { hooks.changed(this); }

    void guestReady(Duration bootTime) { hooks.guestReady(this, bootTime); }

    boolean mayBoot() { return hooks.mayBoot(this); }

    /** The VM's state dir. */
    public java.nio.file.Path stateDir() { return vm.config.stateDir(); }

    void operationDone(Action action, Duration took, boolean succeeded) { hooks.operationDone(this, action, took, succeeded); }

    Instant now() { return time.now(); }

    void submit(Runnable task) { thread.submit(task); }

    void after(Duration delay, Runnable task) { thread.after(delay, task); }

    @Override
    public String toString() {
        return "VmRunner[" + vm.config.id() + "]";
    }
}
