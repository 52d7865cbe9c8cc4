package io.kubevmm.node.snapshot;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.engine.VmmInstance;
import io.kubevmm.node.testing.StartedGuests;
import io.kubevmm.node.testing.TestGuest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A UEFI guest's variables (boot entries OVMF wrote on its first boot) are part of its
 * snapshots: kept with the snapshot, put back by a rollback, given to a clone.
 */
class UefiVarsSnapshotTest {
    @RegisterExtension
    final StartedGuests started = new StartedGuests();

    @TempDir
    Path dir;


    @Test
    void diskAndFullStateSnapshotsKeepTheVariablesAndRestoresPutThemBack() throws Exception {
        Snapshotter snapshots = new Snapshotter(TestGuest.engine(), new SnapshotStore(dir.resolve("snapshots")));
        VmConfig vm = TestGuest.uefiMachine(dir.resolve("vms"), "uefi");
        Path template = vm.firmware().varsTemplate();
        VmmInstance running = TestGuest.engine().create(vm);
        started.add(running);
        running.resume();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .until(() -> !Arrays.equals(Files.readAllBytes(vm.uefiVars()), Files.readAllBytes(template)));
        running.pause(); // OVMF writes nothing more while the snapshots are taken and compared
        byte[] booted = Files.readAllBytes(vm.uefiVars());

        StoredSnapshot disk = snapshots.snapshotDisks("disk", running, details(vm, SnapshotType.Disk));
        StoredSnapshot full = snapshots.snapshotFullState("full", running, details(vm, SnapshotType.FullState));
        for (StoredSnapshot s : List.of(disk, full)) {
            assertThat(s.manifest().uefiVars()).as("%s records the variables", s.name()).isEqualTo("uefi-vars.fd");
            assertThat(s.manifest().artifacts()).as("and checksums them").anyMatch(a -> a.file().equals("uefi-vars.fd"));
            assertThat(Files.readAllBytes(s.dir().resolve("uefi-vars.fd"))).isEqualTo(booted);
        }
        assertThat(vm.capturedUefiVars()).as("nothing captured is left in the VM's state dir").doesNotExist();

        // The VM's variables change afterwards (here: back to the template); a rollback brings the snapshot's back.
        running.destroy();
        Files.copy(template, vm.uefiVars(), StandardCopyOption.REPLACE_EXISTING);
        started.add(snapshots.restore("disk", vm));
        assertThat(Files.readAllBytes(vm.uefiVars())).as("rollback of the disk snapshot").isEqualTo(booted);
        started.removeLast().destroy();

        Files.copy(template, vm.uefiVars(), StandardCopyOption.REPLACE_EXISTING);
        started.add(snapshots.restore("full", vm));
        assertThat(Files.readAllBytes(vm.uefiVars())).as("rollback of the full-state snapshot").isEqualTo(booted);

        VmConfig clone = TestGuest.uefiMachine(dir.resolve("clones"), "uefi-clone");
        started.add(snapshots.restore("disk", clone));
        assertThat(Files.readAllBytes(clone.uefiVars())).as("a clone starts with the snapshot's variables").isEqualTo(booted);
    }

    private static SnapshotDetails details(VmConfig vm, SnapshotType type) {
        return new SnapshotDetails(vm.id(), "uid-" + vm.id(), JsonNodeFactory.instance.objectNode().put("memoryBytes", vm.memoryBytes()),
                type, Instant.now());
    }
}
