package io.kubevmm.node.lifecycle;

import io.kubevmm.api.v1alpha1.InstanceState;
import io.kubevmm.api.v1alpha1.RestartPolicy;
import io.kubevmm.api.v1alpha1.SuspendMode;
import io.kubevmm.node.console.ReadinessWatcher;
import io.kubevmm.node.engine.VmConfig;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;


/** One VM's runner on the {@link FakeEngine} with a {@link ManualTime} clock: the lifecycle in milliseconds. */
final class FakeVm implements AutoCloseable {
    final FakeEngine engine = new FakeEngine();
    final ManualTime time = new ManualTime();
    final ReadinessWatcher readiness = new ReadinessWatcher();
    final VmConfig config;
    final VmRunner runner;
    final AtomicInteger changes = new AtomicInteger();
    final List<Duration> boots = new CopyOnWriteArrayList<>();
    final List<Action> done = new CopyOnWriteArrayList<>();
    String readinessPattern;
    /** What the fence gate says (io.kubevmm.node.ha): false while the node cannot prove it holds its Lease. */
    volatile boolean mayBoot = true;
    Duration stopGrace = Duration.ofSeconds(5);
    long generation = 1;
    private Lifecycle.Desired desired;
    private boolean deleted;

    FakeVm(Path dir, String name) {
        Path stateDir = dir.resolve("vms").resolve("default_" + name);
        config = new VmConfig("default_" + name, stateDir, VmConfig.Profile.MICROVM, 1, 256L << 20, dir.resolve("vmlinuz"),
                dir.resolve("initrd.img"), "console=ttyS0", List.of(), VmConfig.NetworkMode.NONE, "52:54:00:12:34:56");
        runner = new VmRunner(config, engine, readiness, new VmRunner.RunnerHooks() {
            @Override public void changed(VmRunner r) { changes.incrementAndGet(); }
            @Override public void operationDone(VmRunner r, Action action, Duration took, boolean succeeded) {
                if (succeeded) {
                    done.add(action);
                }
            }
            @Override public void guestReady(VmRunner r, Duration bootTime) { boots.add(bootTime); }
            @Override public boolean mayBoot(VmRunner r) { return mayBoot; }
        }, time);
    }

    /** Adopts what the fake engine holds for this VM (an earlier runtime's leftovers), as every runner starts. */
    FakeVm adopt() throws Exception {
        runner.adopt().get(5, TimeUnit.SECONDS);
        return this;
    }

    void want(InstanceState state) {
        want(state, SuspendMode.Memory, RestartPolicy.Always);
    }

    void want(InstanceState state, SuspendMode mode, RestartPolicy policy) {
        desired = new Lifecycle.Desired(state, mode, policy);
        converge();
    }

    /** What the VMI controller does on every reconcile: the same desired state again. */
    void converge() {
        runner.converge(config, desired, readinessPattern, stopGrace, generation);
    }

    /** The user changed the spec: a new generation with the same desired state. */
    void newGeneration() {
        generation++;
        converge();
    }

    VmObservation await(String what, Predicate<VmObservation> condition) {
        org.awaitility.Awaitility.await(what).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1)).atMost(Duration.ofSeconds(5))
                .until(runner::observe, condition);
        return runner.observe();
    }

    VmObservation awaitMachine(MachineState machine) {
        return await("machine " + machine, o -> o.machine() == machine && o.inFlight() == Action.NONE);
    }

    /** What the runner shows once everything queued so far (and what that queued) has run. */
    VmObservation settled() throws Exception {
        for (int i = 0; i < 3; i++) {
            runner.exclusive((emulator, c) -> null).get(5, TimeUnit.SECONDS);
        }
        return runner.observe();
    }

    /** The emulator the runner drives now. */
    FakeEngine.Instance emulator() {
        Long pid = runner.observe().pid();
        return engine.emulatorsOf(config).stream().filter(i -> pid != null && i.pid() == pid).findFirst()
                .orElseThrow(() -> new AssertionError("no fake emulator with pid " + pid + " runs " + config.id()));
    }

    /** Deletes the VM as the VMI controller does, disks included. */
    void delete() throws Exception {
        deleted = true;
        runner.delete().get(5, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws Exception {
        try {
            if (!deleted) {
                delete();
            }
        } finally {
            readiness.close();
        }
    }
}
