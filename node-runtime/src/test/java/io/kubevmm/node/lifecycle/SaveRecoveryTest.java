package io.kubevmm.node.lifecycle;

import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.InstanceState;
import io.kubevmm.api.v1alpha1.RestartPolicy;
import io.kubevmm.api.v1alpha1.SuspendMode;
import io.kubevmm.node.console.ReadinessWatcher;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.qmp.QmpClient;
import io.kubevmm.node.testing.GuestConsole;
import io.kubevmm.node.testing.TestGuest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A runtime killed between recording a suspend to disk and QEMU starting to write it (the guest
 * already stopped, a partial file begun): the next runtime undoes the suspend, the same guest
 * continues, and the partial file goes. The completed-save path is covered by CrashRecoverySystemTest.
 */
class SaveRecoveryTest {
    @TempDir
    Path stateDir;

    @Test
    void aSaveThatNeverRanIsUndoneAndTheSameGuestContinues() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process runtime = new ProcessBuilder(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "-Dkubevmm.repo.root=" + TestGuest.repoRoot(),
                "-cp", System.getProperty("java.class.path"), RunnerProcessMain.class.getName(),
                stateDir.toString(), "undone", "memcheck:16"))
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
        assertThat(qemuPid).isPositive();
        runtime.destroyForcibly();
        assertThat(runtime.waitFor(30, TimeUnit.SECONDS)).isTrue();

        VmConfig config = TestGuest.microvm(stateDir, "undone", "memcheck:16");
        GuestConsole console = new GuestConsole(config.consoleLog());
        console.awaitTickAbove(1, Duration.ofSeconds(60));
        // What the killed runtime left: the intent on disk, the vCPUs stopped, a partial file begun.
        try (QmpClient qmp = QmpClient.connect(config.qmpSocket(), Duration.ofSeconds(5))) {
            qmp.execute("stop");
        }
        OperationIntent.suspendToDisk(true).write(config.stateDir());
        Path partial = config.suspendStateFile().resolveSibling("suspend.state.partial");
        Files.write(partial, new byte[4096]);

        try (ReadinessWatcher readiness = new ReadinessWatcher()) {
            VmRunner next = new VmRunner(config, TestGuest.engine(), readiness, VmRunner.RunnerHooks.NONE);
            next.adopt().get(60, TimeUnit.SECONDS);
            next.converge(config, new Lifecycle.Desired(InstanceState.Running, SuspendMode.Memory, RestartPolicy.Always),
                    GuestConsole.READY, Duration.ofSeconds(10), 1);
            long expected = qemuPid;
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                assertThat(next.observe().pid()).as("the same QEMU, not a new boot").isEqualTo(expected);
                assertThat(next.observe().phase()).isEqualTo(InstancePhase.Running);
            });
            assertThat(partial).doesNotExist();
            assertThat(config.stateDir().resolve(OperationIntent.FILE)).doesNotExist();
            assertThat(config.suspendStateFile()).doesNotExist();
            int tick = console.lastTick();
            console.awaitTickAbove(tick + 1, Duration.ofSeconds(30));
            assertThat(console.count(GuestConsole.READY)).as("no second boot").isEqualTo(1);
            assertThat(console.memcheckFailed()).isFalse();
            next.delete().get(60, TimeUnit.SECONDS);
        }
        // Its first runtime was killed: the QEMU was reparented to init, which may leave it a zombie (ended all the same).
        assertThat(ProcessHandle.of(qemuPid).filter(io.kubevmm.node.engine.ProcessLiveness::running)).as("QEMU after delete").isEmpty();
    }
}
