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

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A guest whose QEMU is alive but does not answer its monitor (here: another process still holds
 * the one QMP connection) is never killed on that guess and never joined by a second QEMU: the
 * runner reports why, and adopts the same QEMU once the monitor answers.
 */
class UnreachableEmulatorTest {
    private Process holder;

    @TempDir
    Path stateDir;

    @AfterEach
    void stopHolder() {
        if (holder != null) {
            holder.destroyForcibly();
        }
    }

    @Test
    void aQemuWhoseMonitorDoesNotAnswerIsReportedLeftRunningAndAdoptedOnceItAnswers() throws Exception {
        long qemuPid = bootInAnotherProcess();
        VmConfig config = TestGuest.microvm(stateDir, "silent", "memcheck:16");
        GuestConsole console = new GuestConsole(config.consoleLog());
        try (ReadinessWatcher readiness = new ReadinessWatcher()) {
            VmRunner runner = new VmRunner(config, TestGuest.engine(), readiness, VmRunner.RunnerHooks.NONE);
            runner.adopt().get(30, TimeUnit.SECONDS);
            runner.converge(config, new Lifecycle.Desired(InstanceState.Running, SuspendMode.Memory, RestartPolicy.Always),
                    GuestConsole.READY, Duration.ofSeconds(10), 1);

            VmObservation silent = runner.observe();
            assertThat(silent.machine()).isEqualTo(MachineState.UNREACHABLE);
            assertThat(silent.pid()).as("the QEMU it could not reach").isEqualTo(qemuPid);
            assertThat(silent.lastFailure().reason()).isEqualTo("EmulatorUnreachable");
            assertThat(silent.lastFailure().message()).contains("QEMU " + qemuPid, "left running");
            int tick = console.lastTick();
            console.awaitTickAbove(tick + 2, Duration.ofSeconds(30));
            assertThat(runner.observe().machine()).as("nothing started or killed meanwhile").isEqualTo(MachineState.UNREACHABLE);
            assertThat(ProcessHandle.of(qemuPid)).hasValueSatisfying(p -> assertThat(p.isAlive()).isTrue());
            assertThat(console.count(GuestConsole.READY)).as("no second boot").isEqualTo(1);

            holder.destroyForcibly(); // its QMP connection closes; the QEMU stays
            assertThat(holder.waitFor(30, TimeUnit.SECONDS)).isTrue();
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                VmObservation obs = runner.observe();
                assertThat(obs.phase()).isEqualTo(InstancePhase.Running);
                assertThat(obs.pid()).as("the same QEMU, adopted").isEqualTo(qemuPid);
                assertThat(obs.lastFailure()).isNull();
            });
            int later = console.lastTick();
            console.awaitTickAbove(later + 1, Duration.ofSeconds(30));
            assertThat(console.count(GuestConsole.READY)).as("no second boot").isEqualTo(1);
            assertThat(console.memcheckFailed()).isFalse();
            runner.delete().get(60, TimeUnit.SECONDS);
        }
        // Its first runtime was killed: the QEMU was reparented to init, which may leave it a zombie (ended all the same).
        assertThat(ProcessHandle.of(qemuPid).filter(io.kubevmm.node.engine.ProcessLiveness::running)).as("QEMU after delete").isEmpty();
    }

    /** Boots the guest from another process, which keeps holding its QMP connection. */
    private long bootInAnotherProcess() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        holder = new ProcessBuilder(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Dkubevmm.repo.root=" + TestGuest.repoRoot(),
                "-cp", System.getProperty("java.class.path"), RunnerProcessMain.class.getName(),
                stateDir.toString(), "silent", "memcheck:16")).redirectErrorStream(true).start();
        var out = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
        for (String line = out.readLine(); line != null; line = out.readLine()) {
            if (line.startsWith("QEMU-PID ")) {
                // Keep draining its output so it never blocks on a full pipe.
                Thread.ofVirtual().start(() -> out.lines().forEach(l -> { }));
                return Long.parseLong(line.substring(9).strip());
            }
        }
        throw new AssertionError("the holder process exited before its guest was ready");
    }
}
