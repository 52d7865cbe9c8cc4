package io.kubevmm.node.snapshot;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.kubevmm.api.v1alpha1.InstanceState;
import io.kubevmm.node.agent.GuestAgent;
import io.kubevmm.node.console.ReadinessWatcher;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.engine.VmEvent;
import io.kubevmm.node.engine.VmmInstance;
import io.kubevmm.node.lifecycle.Lifecycle;
import io.kubevmm.node.lifecycle.VmRunner;
import io.kubevmm.node.testing.TestGuest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Snapshots of the Debian image with its guest agent connected, taken the way the node runtime
 * takes them (on the VM's thread, file systems frozen around the capture): both report
 * {@code GuestAgent, Frozen} and leave the guest thawed; a guest restored from the full-state
 * snapshot, whose memory holds the frozen instant, is thawed once its agent connects.
 */
class FrozenSnapshotWithDebianTest {
    @TempDir
    Path dir;

    private final List<AutoCloseable> cleanUp = new ArrayList<>();

    @AfterEach
    void cleanUp() throws Exception {
        for (AutoCloseable c : cleanUp.reversed()) {
            c.close();
        }
    }

    private static VmConfig debian(Path dir, String name) {
        Path image = TestGuest.repoRoot().resolve("guest/out/debian-bookworm.qcow2");
        assumeTrue(Files.exists(image), "the Debian image is built by guest/build-os-image.sh");
        VmConfig uefi = TestGuest.uefiMachine(dir, name);
        return new VmConfig(uefi.id(), uefi.stateDir(), VmConfig.Profile.STANDARD, 2, 768L << 20, null, null, "",
                List.of(new VmConfig.Disk("root", 0, image, 1)), VmConfig.NetworkMode.USER, "52:54:00:00:00:04", uefi.firmware());
    }

    private static SnapshotDetails details(VmConfig vm, SnapshotType type) {
        return new SnapshotDetails(vm.id(), "uid-" + vm.id(), JsonNodeFactory.instance.objectNode(), type, Instant.now());
    }

    @Test
    void snapshotsOfAGuestWithAnAgentAreTakenFrozenAndLeaveItThawed() throws Exception {
        Snapshotter snapshotter = new Snapshotter(TestGuest.engine(), new SnapshotStore(dir.resolve("snapshots")));
        VmConfig config = debian(dir.resolve("vms"), "frozen");
        ReadinessWatcher readiness = new ReadinessWatcher();
        cleanUp.add(readiness);
        VmRunner runner = new VmRunner(config, TestGuest.engine(), readiness, VmRunner.RunnerHooks.NONE);
        boolean[] deleted = new boolean[1];
        cleanUp.add(() -> {
            if (!deleted[0]) {
                runner.delete().join();
            }
        });
        runner.adopt().join();
        runner.converge(config, new Lifecycle.Desired(InstanceState.Running, null, null), "login:", Duration.ofSeconds(30), 1);
        GuestAgent agent = runner.guestAgent();
        await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1)).until(() -> agent.state().info() != null);

        List<String> diskIndications = runner.exclusive((emulator, vm) -> {
            try (GuestFreeze frozen = GuestFreeze.freeze(runner.guestAgent(), vm.id(), true)) {
                snapshotter.snapshotDisks("disk", emulator, details(vm, SnapshotType.Disk));
                return frozen.indications();
            }
        }).join();
        assertThat(diskIndications).containsExactly("GuestAgent", "Frozen");
        assertThat(agent.freezeStatus()).isEqualTo("thawed");

        long[] thawedAt = new long[1];
        long[] doneAt = new long[1];
        List<String> fullIndications = runner.exclusive((emulator, vm) -> {
            try (GuestFreeze frozen = GuestFreeze.freeze(runner.guestAgent(), vm.id(), true)) {
                snapshotter.snapshotFullState("full", emulator, details(vm, SnapshotType.FullState), () -> {
                    frozen.close();
                    thawedAt[0] = System.nanoTime();
                });
                doneAt[0] = System.nanoTime();
                return frozen.indications();
            }
        }).join();
        assertThat(fullIndications).containsExactly("GuestAgent", "Frozen");
        assertThat(thawedAt[0]).as("thawed once armed, before the memory was written").isLessThan(doneAt[0]);
        assertThat(agent.freezeStatus()).isEqualTo("thawed");
        runner.delete().join();
        deleted[0] = true;

        // The full-state snapshot's memory has the file systems frozen: the restored guest's agent gets them thawed.
        VmConfig clone = debian(dir.resolve("clones"), "frozen-clone");
        VmmInstance restored = snapshotter.restore("full", clone);
        cleanUp.add(restored::destroy);
        GuestAgent cloneAgent = new GuestAgent(clone.id(), () -> { });
        cleanUp.add(cloneAgent);
        restored.addListener(event -> {
            if (event instanceof VmEvent.GuestAgentChannel channel) {
                cloneAgent.guestEnd(channel.open());
            }
        });
        cloneAgent.attach(clone.guestAgentSocket(), restored.guestAgentChannelOpen());
        restored.resume();
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500)).until(() -> cloneAgent.state().info() != null);
        assertThat(cloneAgent.freezeStatus()).isEqualTo("thawed");
    }
}
