package io.kubevmm.node.lifecycle;

import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.InstanceState;
import io.kubevmm.api.v1alpha1.RestartPolicy;
import io.kubevmm.api.v1alpha1.SuspendMode;
import io.kubevmm.node.console.ReadinessWatcher;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.testing.GuestConsole;
import io.kubevmm.node.testing.TestGuest;
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

/** A node runtime killed with SIGKILL leaves its guests running; the next one adopts them. */
class ReadoptionTest {
    @TempDir
    Path stateDir;

    @Test
    void aRuntimeKilledWithSigkillLeavesGuestsRunningAndTheNextRuntimeAdoptsTheSameQemu() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process runtime = new ProcessBuilder(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "-Dkubevmm.repo.root=" + TestGuest.repoRoot(),
                "-cp", System.getProperty("java.class.path"), RunnerProcessMain.class.getName(),
                stateDir.toString(), "adopted", "memcheck:16"))
                .redirectErrorStream(true).start();
        long qemuPid = -1;
        try (var out = new BufferedReader(new InputStreamReader(runtime.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = out.readLine(); line != null; line = out.readLine()) {
                if (line.startsWith("QEMU-PID ")) {
                    qemuPid = Long.parseLong(line.substring(9).strip());
                    break;
                }
            }
        }
        assertThat(qemuPid).as("the first runtime booted a guest").isPositive();

        runtime.destroyForcibly(); // SIGKILL: no shutdown hook, no cleanup
        assertThat(runtime.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(ProcessHandle.of(qemuPid)).as("QEMU outlives its runtime").hasValueSatisfying(p -> assertThat(p.isAlive()).isTrue());

        VmConfig config = TestGuest.microvm(stateDir, "adopted", "memcheck:16");
        GuestConsole console = new GuestConsole(config.consoleLog());
        try (ReadinessWatcher readiness = new ReadinessWatcher()) {
            VmRunner next = new VmRunner(config, TestGuest.engine(), readiness, VmRunner.RunnerHooks.NONE);
            next.adopt();
            next.converge(config, new Lifecycle.Desired(InstanceState.Running, SuspendMode.Memory, RestartPolicy.Always),
                    GuestConsole.READY, Duration.ofSeconds(10), 1);
            long expected = qemuPid;
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                assertThat(next.observe().pid()).as("adopted, not restarted").isEqualTo(expected);
                assertThat(next.observe().phase()).isEqualTo(InstancePhase.Running);
                assertThat(next.observe().ready()).as("readiness remembered from the state dir").isTrue();
            });
            int tick = console.lastTick();
            console.awaitTickAbove(tick + 1, Duration.ofSeconds(30));
            assertThat(console.count(GuestConsole.READY)).as("no second boot").isEqualTo(1);

            // The adopted QMP connection really drives the guest.
            next.converge(config, new Lifecycle.Desired(InstanceState.Suspended, SuspendMode.Memory, RestartPolicy.Always),
                    GuestConsole.READY, Duration.ofSeconds(10), 1);
            await().atMost(Duration.ofSeconds(30)).until(() -> next.observe().phase() == InstancePhase.Suspended);
            assertThat(console.memcheckFailed()).isFalse();
            next.delete().get(60, TimeUnit.SECONDS);
        }
        // Its first runtime was killed: the QEMU was reparented to init, which may leave it a zombie (ended all the same).
        assertThat(ProcessHandle.of(qemuPid).filter(io.kubevmm.node.engine.ProcessLiveness::running)).as("QEMU after delete").isEmpty();
        assertThat(config.stateDir()).doesNotExist();
    }
}
