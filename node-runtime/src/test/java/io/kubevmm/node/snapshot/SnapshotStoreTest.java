package io.kubevmm.node.snapshot;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.kubevmm.node.engine.DiskChain;
import io.kubevmm.node.engine.SnapshotImage;
import io.kubevmm.node.files.FileTree;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The store on its own, no emulator: fake layers and state files stand in for QEMU's. */
class SnapshotStoreTest {
    @TempDir
    Path dir;
    private SnapshotStore store;
    private Path vmDir;

    @BeforeEach
    void setUp() throws Exception {
        store = new SnapshotStore(dir.resolve("snapshots"));
        vmDir = Files.createDirectories(dir.resolve("vms/default_db"));
        Files.writeString(vmDir.resolve("disk-data.qcow2"), "bottom layer");
        Files.writeString(vmDir.resolve("disk-data.1.qcow2"), "frozen top layer");
    }

    private SnapshotDetails details(SnapshotType type) {
        var spec = JsonNodeFactory.instance.objectNode().put("memory", "256Mi").put("cpu", 1);
        return new SnapshotDetails("default_db", "uid-1", spec, type, Instant.parse("2026-11-27T12:00:00Z"));
    }

    private List<DiskChain> chain() {
        return List.of(new DiskChain("data", List.of(vmDir.resolve("disk-data.1.qcow2"), vmDir.resolve("disk-data.qcow2")), null));
    }

    private StoredSnapshot fullState(String name) throws Exception {
        try (PendingSnapshot pending = store.begin(name)) {
            Files.write(pending.stateFile(), new byte[4096]);
            return pending.complete(details(SnapshotType.FullState), chain(), null, 3, 1200);
        }
    }

    @Test
    void aCompleteSnapshotHasAManifestWithTheSpecChainAndAChecksumPerArtifact() throws Exception {
        StoredSnapshot snap = fullState("before-upgrade");

        SnapshotManifest m = store.get("before-upgrade").manifest();
        assertThat(m).isEqualTo(snap.manifest());
        assertThat(m.vmName()).isEqualTo("default_db");
        assertThat(m.vmUid()).isEqualTo("uid-1");
        assertThat(m.vmSpec().path("memory").asText()).isEqualTo("256Mi");
        assertThat(m.type()).isEqualTo(SnapshotType.FullState);
        assertThat(m.disks()).containsExactly(new SnapshotManifest.DiskEntry("data", List.of("disk-data.1.qcow2", "disk-data.qcow2"), null));
        assertThat(m.artifacts()).extracting(SnapshotManifest.Artifact::file)
                .containsExactly("state.bin", "disk-data.1.qcow2", "disk-data.qcow2");
        assertThat(m.artifacts()).allSatisfy(a -> assertThat(a.sha256()).hasSize(64));
        assertThat(m.sizeBytes()).isEqualTo(4096 + "frozen top layer".length() + "bottom layer".length());
        assertThat(m.pauseMillis()).isEqualTo(3);
        assertThat(m.createdAt()).isEqualTo(Instant.parse("2026-11-27T12:00:00Z"));
        assertThat(Files.readString(snap.dir().resolve("manifest.json"))).contains("\"createdAt\" : \"2026-11-27T12:00:00Z\"");
        store.verify(snap);
    }

    @Test
    void layersAreHardLinksSoTheSnapshotOutlivesItsVm() throws Exception {
        StoredSnapshot snap = fullState("s1");
        assertThat(Files.isSameFile(snap.dir().resolve("disk-data.1.qcow2"), vmDir.resolve("disk-data.1.qcow2"))).isTrue();

        FileTree.delete(vmDir);

        store.verify(store.get("s1"));
        SnapshotImage image = store.get("s1").image();
        assertThat(image.stateFile()).isEqualTo(snap.dir().resolve("state.bin"));
        assertThat(image.disk("data").top()).isEqualTo(snap.dir().resolve("disk-data.1.qcow2")).exists();
    }

    @Test
    void anInterruptedSnapshotIsNeverListedAndIsCleanedUp() throws Exception {
        PendingSnapshot pending = store.begin("half");
        Files.write(pending.stateFile(), new byte[100]); // node runtime killed here: no complete(), no close()

        assertThat(store.find("half")).isEmpty();
        assertThat(store.list()).isEmpty();
        assertThat(store.cleanupIncomplete()).hasSize(1);
        assertThat(pending.dir()).doesNotExist();
        assertThat(Files.exists(vmDir.resolve("disk-data.1.qcow2"))).as("the VM's layers are untouched").isTrue();
    }

    @Test
    void aFailedSnapshotLeavesNothingBehind() throws Exception {
        try (PendingSnapshot pending = store.begin("failed")) {
            Files.write(pending.stateFile(), new byte[100]);
            // the engine threw here; try-with-resources aborts
        }
        assertThat(store.find("failed")).isEmpty();
        assertThat(store.cleanupIncomplete()).isEmpty();
    }

    @Test
    void aFlippedByteIsReportedWithTheFileName() throws Exception {
        StoredSnapshot snap = fullState("s1");
        try (RandomAccessFile f = new RandomAccessFile(snap.dir().resolve("state.bin").toFile(), "rw")) {
            f.seek(1000);
            f.write(1);
        }
        assertThatThrownBy(() -> store.verify(snap))
                .isInstanceOfSatisfying(SnapshotIntegrityException.class,
                        e -> assertThat(e.file()).isEqualTo(snap.dir().resolve("state.bin")))
                .hasMessageContaining("artifact state.bin ")
                .message().as("the message reaches status: no host path").doesNotContain(snap.dir().toString());
        assertThatThrownBy(() -> store.verify(snap))
                .hasMessageContaining("corrupt");
    }

    @Test
    void aTruncatedLayerIsReportedWithTheFileName() throws Exception {
        StoredSnapshot snap = fullState("s1");
        Files.writeString(snap.dir().resolve("disk-data.qcow2"), "bottom");
        assertThatThrownBy(() -> store.verify(snap))
                .isInstanceOfSatisfying(SnapshotIntegrityException.class,
                        e -> assertThat(e.file()).isEqualTo(snap.dir().resolve("disk-data.qcow2")))
                .hasMessageContaining("artifact disk-data.qcow2 ")
                .message().as("the message reaches status: no host path").doesNotContain(snap.dir().toString());
        assertThatThrownBy(() -> store.verify(snap))
                .hasMessageContaining("truncated");
    }

    @Test
    void deletingRemovesTheArtifactsButNotTheVmsLayers() throws Exception {
        fullState("s1");
        fullState("s2");
        assertThat(store.list()).extracting(StoredSnapshot::name).containsExactlyInAnyOrder("s1", "s2");

        assertThat(store.delete("s1")).isTrue();

        assertThat(store.find("s1")).isEmpty();
        assertThat(store.root().resolve("s1")).doesNotExist();
        assertThat(vmDir.resolve("disk-data.1.qcow2")).exists();
        store.verify(store.get("s2"));
        assertThat(store.delete("s1")).isFalse();
    }

    @Test
    void aNameIsTakenOnceAndMustBeAFileName() throws Exception {
        fullState("s1");
        assertThatThrownBy(() -> store.begin("s1")).hasMessageContaining("already exists");
        assertThatThrownBy(() -> store.begin("../escape")).hasMessageContaining("not a valid file name");
    }
}
