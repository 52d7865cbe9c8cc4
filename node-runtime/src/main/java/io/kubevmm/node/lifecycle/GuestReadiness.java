package io.kubevmm.node.lifecycle;

import io.kubevmm.node.console.ConsoleLog;
import io.kubevmm.node.console.ReadinessWatcher;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

/**
 * When a booted guest is ready, and how long its boot took: it is ready once its console prints
 * the VM's readiness pattern after the boot began (at once when the VM has none). Runs on the VM
 * thread; the console watcher calls back onto it.
 */
final class GuestReadiness {
    private final VmRunner runner;
    private final VmState vm;
    private final ReadinessWatcher watcher;
    private final RunnerTime time;
    /** nanoTime at which the current boot began; 0 for a guest this runtime did not boot (adopted, arrived). */
    private long bootNanos;

    GuestReadiness(VmRunner runner, VmState vm, ReadinessWatcher watcher, RunnerTime time) {
        this.runner = runner;
        this.vm = vm;
        this.watcher = watcher;
        this.time = time;
    }

    /**
     * The guest's vCPUs were started for a fresh boot at {@code startNanos}; its console output
     * from {@code consoleOffset} on belongs to this boot. {@code restart}: booted again after it went down.
     */
    void booted(long consoleOffset, long startNanos, boolean restart) {
        bootNanos = startNanos;
        RuntimeRecord r = vm.record;
        Instant now = time.now();
        vm.record = new RuntimeRecord(r.createdTime() == null ? now : r.createdTime(), now, null, null, consoleOffset,
                r.restartCount() + (restart ? 1 : 0));
    }

    /** The guest rebooted itself in its emulator: a new boot, watched from the console as it is now. */
    void rebooted() {
        bootNanos = System.nanoTime();
        RuntimeRecord r = vm.record;
        vm.record = new RuntimeRecord(r.createdTime(), time.now(), null, null, ConsoleLog.size(vm.config.consoleLog()), r.restartCount());
        watch(vm.record.consoleOffset());
    }

    /** Watches the console of the current boot, as {@link #booted} recorded it. */
    void watchBoot() {
        watch(vm.record.consoleOffset());
    }

    /** Watches the console from {@code offset} for the readiness pattern; with none, the guest is ready now. */
    void watch(long offset) {
        String pattern = vm.readinessPattern;
        if (pattern == null || pattern.isEmpty()) {
            markReady(System.nanoTime());
            return;
        }
        watcher.watch(runner, vm.config.consoleLog(), offset, pattern, seenAt -> runner.submit(() -> markReady(seenAt)));
    }

    void cancel() {
        watcher.cancel(runner);
    }

    private void markReady(long seenAtNanos) {
        if (vm.machine != MachineState.RUNNING && vm.machine != MachineState.PAUSED) {
            return; // seen after the guest went down or moved
        }
        long bootMillis = bootNanos == 0 ? 0 : TimeUnit.NANOSECONDS.toMillis(seenAtNanos - bootNanos);
        RuntimeRecord r = vm.record;
        // Boxed on purpose: a guest taken over (migration, restore) has no boot time of ours, and
        // unboxing its null in a conditional would throw.
        Long boot = bootNanos == 0 ? r.bootMillis() : Long.valueOf(bootMillis);
        vm.record = new RuntimeRecord(r.createdTime(), r.startedTime(), time.now(), boot, r.consoleOffset(), r.restartCount());
        vm.persist();
        if (bootNanos != 0) {
            runner.guestReady(Duration.ofMillis(bootMillis));
        }
        runner.changed();
    }
}
