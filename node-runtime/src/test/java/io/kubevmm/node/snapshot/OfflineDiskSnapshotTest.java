package io.kubevmm.node.snapshot;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.testing.TestGuest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Disk snapshots of a VM with no emulator process: qemu-img only, no guest boots. */
class OfflineDiskSnapshotTest {
    @TempDir
    Path dir;
    private Snapshotter snapshots;
    private VmConfig vm;

    @BeforeEach
    void setUp() {
        snapshots = new Snapshotter(TestGuest.engine(), new SnapshotStore(dir.resolve("snapshots")));
        vm = TestGuest.config(dir.resolve("vms"), "vm", "disk:vda", VmConfig.Profile.MICROVM,
                List.of(new VmConfig.Disk("data", 16L << 20, null)));
    }

    @Test
    void aStoppedVmsSnapshotFreezesItsDiskAndTheVmWritesAboveIt() throws Exception {
        TestGuest.engine().snapshotDisks(vm); // creates the disk; first layer stays empty
        write(active(), 0x41, 0, 8192);

        StoredSnapshot snap = snapshots.snapshotDisks("before-b", vm, details());
        Path frozen = active().resolveSibling(snap.manifest().disks().getFirst().layers().getFirst());
        write(active(), 0x42, 0, 4096);

        assertThat(snap.manifest().disks().getFirst().layers()).containsExactly("disk-data.1.qcow2", "disk-data.qcow2");
        assertThat(reads(frozen, 0x41, 0, 8192)).as("the snapshot keeps A").isTrue();
        assertThat(reads(active(), 0x42, 0, 4096)).as("the VM sees B").isTrue();
        assertThat(reads(active(), 0x41, 4096, 4096)).isTrue();
        snapshots.store().verify(snap);
    }

    @Test
    void deletingTheOnlySnapshotMergesItsLayersIntoTheVmsDisk() throws Exception {
        TestGuest.engine().snapshotDisks(vm);
        write(active(), 0x41, 0, 8192);
        snapshots.snapshotDisks("s", vm, details());
        write(active(), 0x42, 0, 4096);
        List<String> layersBefore = layerFiles();

        List<Path> merged = snapshots.delete("s", null, vm);

        assertThat(merged).hasSize(2).allSatisfy(p -> assertThat(p).doesNotExist());
        assertThat(layerFiles()).hasSize(layersBefore.size() - 2);
        assertThat(reads(active(), 0x42, 0, 4096)).isTrue();
        assertThat(reads(active(), 0x41, 4096, 4096)).as("A's data moved up into the VM's own layer").isTrue();
        assertThat(backing(active())).isEmpty();
    }

    @Test
    void aLayerAnotherSnapshotStillNeedsIsNotMerged() throws Exception {
        TestGuest.engine().snapshotDisks(vm);
        write(active(), 0x41, 0, 4096);
        snapshots.snapshotDisks("s1", vm, details());
        write(active(), 0x42, 4096, 4096);
        snapshots.snapshotDisks("s2", vm, details());

        List<Path> merged = snapshots.delete("s2", null, vm);

        assertThat(merged).extracting(p -> p.getFileName().toString()).containsExactly("disk-data.2.qcow2");
        assertThat(reads(active(), 0x42, 4096, 4096)).isTrue();
        assertThat(reads(active(), 0x41, 0, 4096)).isTrue();
        snapshots.store().verify(snapshots.store().get("s1"));
        assertThat(backing(active())).isEqualTo("disk-data.1.qcow2");
    }

    private SnapshotDetails details() {
        return new SnapshotDetails(vm.id(), "uid", JsonNodeFactory.instance.objectNode(), SnapshotType.Disk, Instant.now());
    }

    private Path active() throws Exception {
        return vm.stateDir().resolve(Files.readString(vm.stateDir().resolve("disk-data.active")).strip());
    }

    private List<String> layerFiles() throws Exception {
        try (var files = Files.list(vm.stateDir())) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".qcow2")).sorted().toList();
        }
    }

    private static void write(Path image, int pattern, long offset, int length) throws Exception {
        assertThat(qemuIo(image, "write -P " + pattern + " " + offset + " " + length)).doesNotContain("failed");
    }

    private static boolean reads(Path image, int pattern, long offset, int length) throws Exception {
        return !qemuIo(image, "read -P " + pattern + " " + offset + " " + length).contains("failed");
    }

    private static String qemuIo(Path image, String command) throws Exception {
        Process p = new ProcessBuilder("qemu-io", "-f", "qcow2", "-c", command, image.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out + (p.exitValue() == 0 ? "" : " failed");
    }

    private static String backing(Path image) throws Exception {
        Process p = new ProcessBuilder("qemu-img", "info", "--output=json", image.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out);
        return json.path("backing-filename").asText("");
    }
}
