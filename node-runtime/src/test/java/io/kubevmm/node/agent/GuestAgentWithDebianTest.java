package io.kubevmm.node.agent;

import io.kubevmm.api.v1alpha1.InstanceState;
import io.kubevmm.node.console.ReadinessWatcher;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.lifecycle.Lifecycle;
import io.kubevmm.node.lifecycle.MachineState;
import io.kubevmm.node.lifecycle.VmRunner;
import io.kubevmm.node.testing.TestGuest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The Debian image (guest/build-os-image.sh) booted through OVMF with user networking: its
 * qemu-guest-agent, started by udev when the port appears, connects to the VM's runner, reports
 * the OS, host name and the DHCP address, freezes and thaws the file systems, and a stop brings
 * the guest down through it (the kernel's "reboot: Power down" on the console).
 */
class GuestAgentWithDebianTest {
    private static final Duration LOGIN = Duration.ofMinutes(4);

    @TempDir
    Path dir;

    private VmRunner runner;
    private ReadinessWatcher readiness;

    @AfterEach
    void cleanUp() {
        if (runner != null) {
            runner.delete().join();
        }
        if (readiness != null) {
            readiness.close();
        }
    }

    private VmConfig debian() {
        Path image = TestGuest.repoRoot().resolve("guest/out/debian-bookworm.qcow2");
        assumeTrue(Files.exists(image), "the Debian image is built by guest/build-os-image.sh");
        VmConfig uefi = TestGuest.uefiMachine(dir, "debian-agent");
        return new VmConfig(uefi.id(), uefi.stateDir(), VmConfig.Profile.STANDARD, 2, 768L << 20, null, null, "",
                List.of(new VmConfig.Disk("root", 0, image, 1)), VmConfig.NetworkMode.USER, "52:54:00:00:00:03", uefi.firmware());
    }

    @Test
    void theDebianGuestsAgentReportsTheGuestFreezesItsFileSystemsAndStopsIt() throws Exception {
        VmConfig config = debian();
        readiness = new ReadinessWatcher();
        runner = new VmRunner(config, TestGuest.engine(), readiness, VmRunner.RunnerHooks.NONE);
        runner.adopt().join();
        runner.converge(config, new Lifecycle.Desired(InstanceState.Running, null, null), "login:", Duration.ofSeconds(60), 1);

        GuestAgent agent = runner.guestAgent();
        await().atMost(LOGIN).pollInterval(Duration.ofSeconds(1))
                .until(() -> agent.state().info() != null && agent.state().info().interfaces().stream()
                        .anyMatch(i -> i.ipAddresses().contains("10.0.2.15")));
        AgentState state = runner.observe().agent();
        assertThat(state.connected()).isTrue();
        assertThat(state.reason()).isEqualTo("Connected");
        assertThat(state.info().osName()).contains("Debian");
        assertThat(state.info().hostname()).isNotBlank();
        assertThat(state.info().kernelRelease()).isNotBlank();
        assertThat(state.info().interfaces()).anySatisfy(i -> assertThat(i.macAddress()).isEqualTo("52:54:00:00:00:03"));

        assertThat(agent.freeze()).isPositive();
        assertThat(agent.freezeStatus()).isEqualTo("frozen");
        assertThat(runner.observe().agent().frozen()).isTrue();
        agent.thaw();
        assertThat(agent.freezeStatus()).isEqualTo("thawed");

        // Stopped: the guest goes down (through the agent), and the machine is created again with vCPUs halted.
        runner.converge(config, new Lifecycle.Desired(InstanceState.Stopped, null, null), "login:", Duration.ofSeconds(60), 1);
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                .until(() -> runner.observe().lastStop() != null && runner.observe().machine() == MachineState.CREATED);
        assertThat(runner.observe().lastStop().way()).isEqualTo("agent");
        assertThat(runner.observe().lastStop().message()).contains("guest agent");
        assertThat(Files.readString(config.consoleLog())).contains("reboot: Power down");
        assertThat(runner.observe().agent().connected()).as("the halted machine's guest runs no agent").isFalse();
    }
}
