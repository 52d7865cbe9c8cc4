package io.kubevmm.node.engine.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import io.kubevmm.node.engine.RunState;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.engine.VmmInstance;
import io.kubevmm.node.qmp.QmpClient;
import io.kubevmm.node.testing.GuestConsole;
import io.kubevmm.node.testing.StartedGuests;
import io.kubevmm.node.testing.TestGuest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A guest resumed from a state saved by an older machine type (as after an upgrade from 7.2: a
 * versioned q35 machine with RAM padded under TCG) runs in that machine, and what the engine says
 * for VMI status ({@code guestMemory}, {@code workarounds}) is that machine's, not what this
 * release would give the spec; the next fresh boot is the spec's again.
 */
class RestoredMachineTest {
    @RegisterExtension
    final StartedGuests started = new StartedGuests();
    private Process raw;

    @TempDir
    Path dir;

    @AfterEach
    void cleanUp() {
        if (raw != null) {
            raw.destroyForcibly();
        }
    }

    @Test
    void statusSizingComesFromTheSavedMachineUntilTheNextBoot() throws Exception {
        QemuEngine engine = TestGuest.engine();
        VmConfig config = TestGuest.config(dir, "old", "memcheck:32", VmConfig.Profile.STANDARD, List.of());
        long paddedRam = config.memoryBytes() + 8 * 1024;
        SavedMachine older = new SavedMachine("pc-q35-9.2", paddedRam, 0);
        suspendInMachine(engine, config, older);
        SavedMachine written = SavedMachine.of(config.suspendStateFile()).orElseThrow();
        assertThat(written.machineType()).isEqualTo("pc-q35-9.2");
        assertThat(written.memoryBytes()).isEqualTo(paddedRam);

        VmmInstance resumed = engine.restore(config);
        started.add(resumed);
        resumed.resume();
        await().atMost(Duration.ofSeconds(10)).until(resumed::runState, s -> s == RunState.RUNNING);
        GuestConsole console = new GuestConsole(config.consoleLog());
        int pass = console.lastMemcheckPass();
        await().atMost(Duration.ofSeconds(60)).until(() -> console.lastMemcheckPass() > pass);
        assertThat(console.memcheckFailed()).isFalse();

        assertThat(engine.effectiveMemoryBytes(config)).as("VMI guestMemory").isEqualTo(paddedRam);
        assertThat(engine.workarounds(config)).as("VMI workarounds").anySatisfy(w -> assertThat(w)
                .contains(paddedRam / 1024 + "Ki instead of the spec's " + config.memoryBytes() / 1024 + "Ki"))
                .anySatisfy(w -> assertThat(w).startsWith("machine pc-q35-9.2 instead of pc-q35-"));

        resumed.destroy();
        started.remove(resumed);
        VmmInstance fresh = engine.create(config);
        started.add(fresh);
        assertThat(engine.effectiveMemoryBytes(config)).as("a fresh boot has the spec's RAM").isEqualTo(config.memoryBytes());
        assertThat(engine.workarounds(config)).noneSatisfy(w -> assertThat(w).contains("pc-q35-9.2"));
    }

    /** What an older QEMU did before the upgrade: run the guest in {@code machine}, then save its state. */
    private void suspendInMachine(QemuEngine engine, VmConfig config, SavedMachine machine) throws Exception {
        Files.createDirectories(config.stateDir());
        QemuCommandLine.Launch launch = new QemuCommandLine.Launch(Map.of(), QemuCommandLine.vmGenerationId(config)).loading(machine);
        List<String> args = engine.commandLine().forCreate(config, launch);
        assertThat(args).containsSequence("-machine", "pc-q35-9.2,accel=" + engine.accelerator().apiName());
        raw = new ProcessBuilder(args).redirectErrorStream(true).redirectOutput(config.emulatorLog().toFile()).start();
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(config.qmpSocket()));
        try (QmpClient qmp = QmpClient.connect(config.qmpSocket(), Duration.ofSeconds(10))) {
            qmp.execute("cont");
            GuestConsole console = new GuestConsole(config.consoleLog());
            await().atMost(Duration.ofSeconds(90)).until(() -> console.lastMemcheckPass() >= 1);
            qmp.execute("stop");
            qmp.execute("migrate", Map.of("uri", "exec:cat > " + QemuInstance.shellQuote(config.suspendStateFile())));
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20)).until(() -> {
                JsonNode info = qmp.execute("query-migrate");
                assertThat(info.path("status").asText()).isNotEqualTo("failed");
                return info.path("status").asText().equals("completed");
            });
            qmp.execute("quit");
        }
        raw.waitFor();
        raw = null;
    }
}
