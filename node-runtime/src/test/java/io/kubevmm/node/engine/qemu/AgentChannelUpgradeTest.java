package io.kubevmm.node.engine.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import io.kubevmm.node.engine.RunState;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.engine.VmmInstance;
import io.kubevmm.node.qmp.QmpClient;
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
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A q35 guest suspended to disk by a node runtime from before the guest agent's channel existed
 * resumes with its memory on one that adds the channel: the extra device sits after every other,
 * so the saved devices keep their places, and the guest runs on.
 */
class AgentChannelUpgradeTest {
    private final List<VmmInstance> started = new ArrayList<>();
    private Process raw;

    @TempDir
    Path dir;

    @AfterEach
    void cleanUp() {
        started.forEach(VmmInstance::destroy);
        if (raw != null) {
            raw.destroyForcibly();
        }
    }

    @Test
    void aStateSavedWithoutTheAgentChannelResumesOnALaunchWithIt() throws Exception {
        QemuEngine engine = TestGuest.engine();
        VmConfig config = TestGuest.config(dir, "before-agent", "memcheck:32", VmConfig.Profile.STANDARD, List.of());
        suspendWithoutChannel(engine, config);

        VmmInstance resumed = engine.restore(config);
        started.add(resumed);
        assertThat(Files.exists(config.guestAgentSocket())).as("the relaunch has the channel").isTrue();
        resumed.resume();
        await().atMost(Duration.ofSeconds(10)).until(resumed::runState, s -> s == RunState.RUNNING);
        GuestConsole console = new GuestConsole(config.consoleLog());
        int pass = console.lastMemcheckPass();
        await().atMost(Duration.ofSeconds(60)).until(() -> console.lastMemcheckPass() > pass + 1);
        assertThat(console.memcheckFailed()).isFalse();
        assertThat(console.count(GuestConsole.READY)).as("no second boot").isEqualTo(1);
        assertThat(resumed.guestAgentChannelOpen()).as("the busybox guest runs no agent").isFalse();
    }

    /** What the older node runtime did: the same command line without the channel, then a suspend to disk. */
    private void suspendWithoutChannel(QemuEngine engine, VmConfig config) throws Exception {
        Files.createDirectories(config.stateDir());
        List<String> args = new ArrayList<>(engine.commandLine().forCreate(config,
                new QemuCommandLine.Launch(Map.of(), QemuCommandLine.vmGenerationId(config))));
        List<String> channel = QemuCommandLine.guestAgentChannel(config);
        int at = java.util.Collections.indexOfSubList(args, channel);
        assertThat(at).isPositive();
        args.subList(at, at + channel.size()).clear();
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
