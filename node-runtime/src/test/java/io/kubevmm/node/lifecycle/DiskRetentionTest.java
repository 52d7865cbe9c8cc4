package io.kubevmm.node.lifecycle;

import io.kubevmm.node.lifecycle.DiskRetention.VmLookup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** What a node deletes when a VM's instance goes away, and when the VM itself does. */
class DiskRetentionTest {

    @Test
    void disksOfAnExistingVmAreNeverDeleted() {
        assertThat(DiskRetention.decide(VmLookup.present("uid-1", false), "uid-1").deleteDisks()).isFalse();
        // No recorded owner (a dir from before owners were recorded): the name decides, and the VM exists.
        assertThat(DiskRetention.decide(VmLookup.present("uid-1", false), null).deleteDisks()).isFalse();
    }

    @Test
    void disksStayWhenTheApiCannotSayWhetherTheVmExists() {
        var decision = DiskRetention.decide(VmLookup.unknown(), "uid-1");
        assertThat(decision.deleteDisks()).isFalse();
        assertThat(decision.reason()).contains("did not answer");
    }

    @Test
    void disksGoWithTheirVm() {
        assertThat(DiskRetention.decide(VmLookup.absent(), "uid-1").deleteDisks()).isTrue();
        assertThat(DiskRetention.decide(VmLookup.absent(), null).deleteDisks()).isTrue();
        assertThat(DiskRetention.decide(VmLookup.present("uid-1", true), "uid-1").deleteDisks()).isTrue();
    }

    @Test
    void aNewVmOfTheSameNameNeverGetsTheOldOnesDisks() {
        var decision = DiskRetention.decide(VmLookup.present("uid-2", false), "uid-1");
        assertThat(decision.deleteDisks()).isTrue();
        assertThat(decision.reason()).contains("uid-1").contains("uid-2");
    }

    @Test
    void aStopKeepsTheDiskLayersAndTheOwnerAndRemovesTheRuntimeFiles(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("vms/default_db");
        Files.createDirectories(dir);
        for (String f : new String[] {"disk-data.qcow2", "disk-data.1.qcow2", "disk-data.active", "disk-root.qcow2", "uefi-vars.fd",
                "qmp.sock", "qemu.pid", "console.log", "qemu.log", "suspend.state", "runtime.json", "incoming-nbd.sock"}) {
            Files.writeString(dir.resolve(f), f);
        }
        DiskRetention.recordOwner(dir, "uid-1");
        Files.createDirectories(dir.resolve("seed"));
        Files.writeString(dir.resolve("seed/user-data"), "x");

        assertThat(DiskRetention.keepDisksOnly(dir)).isTrue();

        try (Stream<Path> left = Files.list(dir)) {
            assertThat(left.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder(
                    "disk-data.qcow2", "disk-data.1.qcow2", "disk-data.active", "disk-root.qcow2", "uefi-vars.fd", "vm.uid");
        }
        assertThat(Files.readString(dir.resolve("disk-data.1.qcow2"))).isEqualTo("disk-data.1.qcow2");
        assertThat(DiskRetention.owner(dir)).contains("uid-1");
    }

    @Test
    void aVmWithoutDisksLeavesNothingBehind(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("default_web");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("console.log"), "tick 1");
        DiskRetention.recordOwner(dir, "uid-9");

        assertThat(DiskRetention.keepDisksOnly(dir)).isFalse();
        assertThat(dir).doesNotExist();
    }
}
