package io.kubevmm.node.lifecycle;

import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.InstanceState;
import io.kubevmm.api.v1alpha1.RestartPolicy;
import io.kubevmm.api.v1alpha1.SuspendMode;
import io.kubevmm.node.console.ReadinessWatcher;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.testing.GuestConsole;
import io.kubevmm.node.testing.TestGuest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The survey's lifecycle on real QEMU guests, driven through {@link VmRunner} without Kubernetes. */
class VmRunnerLifecycleTest {
    static final Duration BOOT = Duration.ofSeconds(90);

    @TempDir
    Path stateDir;

    final ReadinessWatcher readiness = new ReadinessWatcher();
    final List<VmRunner> runners = new ArrayList<>();
    long generation = 1;

    @AfterEach
    void cleanUp() throws Exception {
        for (VmRunner runner : runners) {
            runner.delete().get(60, TimeUnit.SECONDS);
        }
        readiness.close();
    }

    VmRunner runner(VmConfig config) {
        VmRunner runner = new VmRunner(config, TestGuest.engine(), readiness, VmRunner.RunnerHooks.NONE);
        runner.adopt();
        runners.add(runner);
        return runner;
    }

    void want(VmRunner runner, InstanceState state, SuspendMode mode, RestartPolicy policy) {
        runner.converge(runner.config(), new Lifecycle.Desired(state, mode, policy), GuestConsole.READY, Duration.ofSeconds(20), generation);
    }

    void want(VmRunner runner, InstanceState state) {
        want(runner, state, SuspendMode.Memory, RestartPolicy.Always);
    }

    static void awaitPhase(VmRunner runner, InstancePhase phase) {
        await().atMost(BOOT).pollInterval(Duration.ofMillis(50)).untilAsserted(() ->
                assertThat(runner.observe().phase()).as("phase of %s", runner).isEqualTo(phase));
    }

    static void awaitReady(VmRunner runner) {
        await().atMost(BOOT).pollInterval(Duration.ofMillis(50)).until(() -> runner.observe().ready());
    }

    static GuestConsole console(VmRunner runner) {
        return new GuestConsole(runner.config().consoleLog());
    }

    @Test
    void aStoppedVmHasItsMachineCreatedButExecutesNothingUntilStarted() throws Exception {
        VmRunner vm = runner(TestGuest.microvm(stateDir, "halted", "idle"));
        want(vm, InstanceState.Stopped);
        awaitPhase(vm, InstancePhase.Stopped);
        long pid = vm.observe().pid();
        Thread.sleep(1500);
        assertThat(console(vm).text()).as("console of a created but unstarted guest").doesNotContain(GuestConsole.READY);

        want(vm, InstanceState.Running);
        awaitReady(vm);

        assertThat(vm.observe().pid()).as("start reuses the created process").isEqualTo(pid);
        assertThat(vm.observe().bootMillis()).isPositive();
        assertThat(vm.observe().guestReadyTime()).isAfterOrEqualTo(vm.observe().startedTime());
    }

    @Test
    void suspendedToMemoryGuestStopsTickingAndContinuesWhereItWasAfterResume() throws Exception {
        VmRunner vm = runner(TestGuest.microvm(stateDir, "pausing", "memcheck:16"));
        want(vm, InstanceState.Running);
        awaitReady(vm);
        GuestConsole console = console(vm);
        console.awaitTickAbove(2, BOOT);

        want(vm, InstanceState.Suspended);
        awaitPhase(vm, InstancePhase.Suspended);
        int frozenAt = console.lastTick();
        Thread.sleep(3000);
        assertThat(console.lastTick()).as("ticks while suspended").isEqualTo(frozenAt);

        want(vm, InstanceState.Running);
        awaitPhase(vm, InstancePhase.Running);
        console.awaitTickAbove(frozenAt + 1, BOOT);
        assertThat(console.ticks()).as("ticks continue without a gap or restart").containsSubsequence(frozenAt, frozenAt + 1, frozenAt + 2);
        assertThat(console.count(GuestConsole.READY)).as("the guest did not reboot").isEqualTo(1);
        assertThat(console.memcheckFailed()).isFalse();
    }

    @Test
    void suspendToDiskFreesTheEmulatorAndResumeContinuesTheSameGuestWithItsMemoryIntact() throws Exception {
        VmRunner vm = runner(TestGuest.microvm(stateDir, "hibernating", "memcheck:32"));
        want(vm, InstanceState.Running);
        awaitReady(vm);
        GuestConsole console = console(vm);
        console.awaitTickAbove(3, BOOT);
        await().atMost(BOOT).until(() -> console.lastMemcheckPass() >= 1);
        long pid = vm.observe().pid();

        want(vm, InstanceState.Suspended, SuspendMode.Disk, RestartPolicy.Always);
        awaitPhase(vm, InstancePhase.Suspended);
        assertThat(vm.observe().machine()).isEqualTo(MachineState.SAVED_TO_DISK);
        assertThat(vm.observe().pid()).isNull();
        assertThat(ProcessHandle.of(pid).filter(io.kubevmm.node.engine.ProcessLiveness::running)).as("QEMU process after suspend to disk").isEmpty();
        Path saved = vm.observe().suspendStateFile();
        assertThat(saved).exists();
        assertThat(Files.size(saved)).as("saved state holds guest memory").isGreaterThan(16L << 20);
        int frozenAt = console.lastTick();
        int passesBefore = console.lastMemcheckPass();

        want(vm, InstanceState.Running, SuspendMode.Disk, RestartPolicy.Always);
        awaitPhase(vm, InstancePhase.Running);
        console.awaitTickAbove(frozenAt + 2, BOOT);
        await().atMost(BOOT).until(() -> console.lastMemcheckPass() > passesBefore);

        assertThat(console.ticks()).as("tick count continues across the save and restore").containsSubsequence(frozenAt, frozenAt + 1, frozenAt + 2);
        assertThat(console.count(GuestConsole.READY)).as("the guest did not reboot").isEqualTo(1);
        assertThat(console.memcheckFailed()).as("memcheck after restore").isFalse();
        assertThat(vm.observe().pid()).isNotEqualTo(pid);
        assertThat(saved).as("state file is removed once the guest runs again").doesNotExist();
    }

    @Test
    void stoppingARunningGuestPowersItOffThroughAcpiAndLeavesAFreshHaltedMachine() throws Exception {
        VmRunner vm = runner(TestGuest.microvm(stateDir, "stopping", "idle"));
        want(vm, InstanceState.Running);
        awaitReady(vm);
        long pid = vm.observe().pid();

        want(vm, InstanceState.Stopped);
        awaitPhase(vm, InstancePhase.Stopped);

        assertThat(console(vm).text()).as("guest saw the power button").contains("KUBEVMM-GUEST-POWEROFF");
        assertThat(vm.observe().pid()).isNotEqualTo(pid);
        assertThat(ProcessHandle.of(pid).filter(io.kubevmm.node.engine.ProcessLiveness::running)).isEmpty();

        want(vm, InstanceState.Running);
        awaitReady(vm);
        assertThat(console(vm).count(GuestConsole.READY)).as("Stopped -> Running boots the guest again").isEqualTo(2);
    }

    @Test
    void guestPowerOffIsDetectedAndTheGuestBootsAgainUnderRestartPolicyAlways() {
        VmRunner vm = runner(TestGuest.microvm(stateDir, "poweroff-always", "poweroff:2"));
        want(vm, InstanceState.Running);
        awaitReady(vm);
        long pid = vm.observe().pid();

        console(vm).awaitCount(GuestConsole.READY, 2, BOOT);
        await().atMost(BOOT).until(() -> vm.observe().restartCount() >= 1);
        assertThat(console(vm).text()).contains("KUBEVMM-GUEST-POWEROFF");
        assertThat(vm.observe().pid()).as("restarted in the same process").isEqualTo(pid);
    }

    @Test
    void guestPowerOffWithRestartPolicyNeverEndsTheVmAsSucceeded() {
        VmRunner vm = runner(TestGuest.microvm(stateDir, "poweroff-never", "poweroff:1"));
        want(vm, InstanceState.Running, SuspendMode.Memory, RestartPolicy.Never);
        awaitPhase(vm, InstancePhase.Succeeded);
        assertThat(vm.observe().pid()).isNull();
        assertThat(console(vm).count(GuestConsole.READY)).isEqualTo(1);
    }

    @Test
    void guestKernelPanicIsDetectedAndFailsTheVmUnderRestartPolicyNever() {
        VmRunner vm = runner(TestGuest.microvm(stateDir, "panic", "panic:1"));
        want(vm, InstanceState.Running, SuspendMode.Memory, RestartPolicy.Never);
        awaitPhase(vm, InstancePhase.Failed);
        assertThat(vm.observe().lastFailure().reason()).isEqualTo("GuestCrashed");
        assertThat(vm.observe().pid()).isNull();
    }

    @Test
    void anEmulatorKilledUnderARunningGuestIsReportedAndTheGuestRestarted() {
        VmRunner vm = runner(TestGuest.microvm(stateDir, "killed", "idle"));
        want(vm, InstanceState.Running);
        awaitReady(vm);
        long pid = vm.observe().pid();

        ProcessHandle.of(pid).orElseThrow().destroyForcibly();

        await().atMost(BOOT).until(() -> vm.observe().restartCount() >= 1 && vm.observe().ready());
        assertThat(vm.observe().pid()).isNotEqualTo(pid);
        assertThat(console(vm).count(GuestConsole.READY)).isEqualTo(2);
    }

    @Test
    void aMissingKernelFailsTheVmWithAMessageNamingTheFile() {
        VmConfig good = TestGuest.microvm(stateDir, "nokernel", "idle");
        VmConfig config = new VmConfig(good.id(), good.stateDir(), good.profile(), 1, good.memoryBytes(),
                stateDir.resolve("no-such-vmlinuz"), good.initrd(), good.cmdline(), List.of(), good.network(), good.macAddress());
        VmRunner vm = runner(config);
        want(vm, InstanceState.Running);
        awaitPhase(vm, InstancePhase.Failed);

        assertThat(vm.observe().lastFailure().reason()).isEqualTo("MissingFile");
        assertThat(vm.observe().lastFailure().message()).contains("spec.boot.kernel", "no-such-vmlinuz");
    }

    @Test
    void anEmulatorThatDiesAtStartFailsTheVmWithItsErrorOutput() throws Exception {
        Path notAKernel = Files.writeString(stateDir.resolve("not-a-kernel"), "this is not a kernel image\n");
        VmConfig good = TestGuest.microvm(stateDir, "badkernel", "idle");
        VmConfig config = new VmConfig(good.id(), good.stateDir(), VmConfig.Profile.STANDARD, 1, good.memoryBytes(),
                notAKernel, good.initrd(), good.cmdline(), List.of(), good.network(), good.macAddress());
        VmRunner vm = runner(config);
        want(vm, InstanceState.Running);
        awaitPhase(vm, InstancePhase.Failed);

        assertThat(vm.observe().lastFailure().reason()).isEqualTo("EmulatorFailed");
        assertThat(vm.observe().lastFailure().message()).contains("QEMU exited at start").containsIgnoringCase("kernel");
    }

    @Test
    void theStandardProfileBootsAQ35MachineWithADisk() {
        VmConfig config = TestGuest.config(stateDir, "standard", "idle", VmConfig.Profile.STANDARD,
                List.of(new VmConfig.Disk("data", 64L << 20, null)));
        VmRunner vm = runner(config);
        want(vm, InstanceState.Running);
        awaitReady(vm);
        await().atMost(BOOT).until(() -> console(vm).text().contains("disk vda present"));
        assertThat(config.disks().getFirst().file(config.stateDir())).exists();
    }
}
