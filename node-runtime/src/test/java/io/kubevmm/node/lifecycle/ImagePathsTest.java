package io.kubevmm.node.lifecycle;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The node's real check of spec paths, on real files and symlinks, before anything opens them. */
class ImagePathsTest {
    static final String FIELD = "spec.disks[0].source.path";

    @TempDir
    Path tmp;
    Path images;
    Path state;
    Path outside;

    @BeforeEach
    void layout() throws IOException {
        images = Files.createDirectories(tmp.resolve("images"));
        state = Files.createDirectories(tmp.resolve("state"));
        outside = Files.writeString(tmp.resolve("secret.txt"), "host secret");
        Files.writeString(images.resolve("base.qcow2"), "image");
        Files.createDirectories(images.resolve("debian"));
        Files.writeString(images.resolve("debian/12.raw"), "image");
        Files.writeString(Files.createDirectories(state.resolve("vms/tenant-a_db")).resolve("disk-data.qcow2"), "tenant a's disk");
        Files.writeString(Files.createDirectories(state.resolve("snapshots/tenant-a_snap")).resolve("state.bin"), "tenant a's memory");
    }

    ImagePaths paths() {
        return new ImagePaths(images, state);
    }

    static void refused(ImagePaths paths, String relative, String reason, String text) {
        assertThatThrownBy(() -> paths.resolve(FIELD, relative))
                .isInstanceOfSatisfying(ImagePaths.Refused.class, r -> {
                    assertThat(r.field()).isEqualTo(FIELD);
                    assertThat(r.reason()).isEqualTo(reason);
                    assertThat(r.getMessage()).startsWith(FIELD + " \"" + relative + "\"").contains(text);
                });
    }

    @Test
    void aPlainRelativeNameResolvesToItsRealPathInTheImageDirectory() throws IOException {
        assertThat(paths().resolve(FIELD, "base.qcow2")).isEqualTo(images.resolve("base.qcow2").toRealPath());
        assertThat(paths().resolve(FIELD, "debian/12.raw")).isEqualTo(images.resolve("debian/12.raw").toRealPath());
    }

    @Test
    void aSymlinkThatStaysInsideTheImageDirectoryIsFollowed() throws IOException {
        Files.createSymbolicLink(images.resolve("current.raw"), Path.of("debian/12.raw"));
        Files.createSymbolicLink(images.resolve("latest"), images.resolve("debian"));
        assertThat(paths().resolve(FIELD, "current.raw")).isEqualTo(images.resolve("debian/12.raw").toRealPath());
        assertThat(paths().resolve(FIELD, "latest/12.raw")).isEqualTo(images.resolve("debian/12.raw").toRealPath());
    }

    @Test
    void absolutePathsAndDotDotAreRefusedBeforeTheFileSystemIsAsked() {
        refused(paths(), "/etc/shadow", "InvalidSpec", "absolute path");
        refused(paths(), outside.toString(), "InvalidSpec", "absolute path");
        refused(paths(), "../secret.txt", "InvalidSpec", "contains '..'");
    }

    @Test
    void aSymlinkLeadingOutOfTheImageDirectoryIsRefusedWithoutNamingItsTarget() throws IOException {
        Files.createSymbolicLink(images.resolve("leak.raw"), outside);
        Files.createSymbolicLink(images.resolve("etc"), Path.of("/etc"));
        Files.createSymbolicLink(images.resolve("relative-leak.raw"), Path.of("../secret.txt"));
        refused(paths(), "leak.raw", "ForbiddenPath", "leads out of the node's image directory");
        refused(paths(), "etc/hostname", "ForbiddenPath", "leads out of the node's image directory");
        refused(paths(), "relative-leak.raw", "ForbiddenPath", "leads out of the node's image directory");
        assertThatThrownBy(() -> paths().resolve(FIELD, "leak.raw")).message().doesNotContain(outside.toString());
    }

    @Test
    void aSymlinkToNothingIsRefusedSoItCannotBePointedLater() throws IOException {
        Files.createSymbolicLink(images.resolve("dangling.raw"), tmp.resolve("not-yet"));
        refused(paths(), "dangling.raw", "ForbiddenPath", "symbolic link to nothing");
    }

    @Test
    void devicesDirectoriesAndPipesAreNotImages() throws Exception {
        Files.createSymbolicLink(images.resolve("null"), Path.of("/dev/null"));
        refused(paths(), "null", "ForbiddenPath", "leads out");
        refused(paths(), "debian", "ForbiddenPath", "not a regular file");
        Process fifo = new ProcessBuilder("mkfifo", images.resolve("pipe").toString()).start();
        assertThat(fifo.waitFor()).isZero();
        refused(paths(), "pipe", "ForbiddenPath", "not a regular file");
        // A device node inside the image directory (only root can make one; this suite runs as root in CI).
        Process mknod = new ProcessBuilder("mknod", images.resolve("zero").toString(), "c", "1", "5").start();
        if (mknod.waitFor() == 0) {
            refused(paths(), "zero", "ForbiddenPath", "not a regular file");
        }
    }

    @Test
    void anotherVmsStateFileAndTheSnapshotStoreAreRefusedEvenInsideTheImageDirectory() throws IOException {
        // The node's state dir inside its image dir (a misconfiguration the node must survive).
        Path overlapState = Files.createDirectories(images.resolve("node-state"));
        Files.writeString(Files.createDirectories(overlapState.resolve("vms/tenant-a_db")).resolve("disk-data.qcow2"), "a's disk");
        Files.writeString(Files.createDirectories(overlapState.resolve("snapshots/tenant-a_s1")).resolve("state.bin"), "a's memory");
        Files.writeString(overlapState.resolve("node-token"), "secret");
        ImagePaths overlapping = new ImagePaths(images, overlapState);
        refused(overlapping, "node-state/vms/tenant-a_db/disk-data.qcow2", "ForbiddenPath", "VM's state directory or of the snapshot store");
        refused(overlapping, "node-state/snapshots/tenant-a_s1/state.bin", "ForbiddenPath", "snapshot store");
        refused(overlapping, "node-state/node-token", "ForbiddenPath", "snapshot store");
        // ... and by a symlink from the image dir into them.
        Files.createSymbolicLink(images.resolve("mem.raw"), overlapState.resolve("snapshots/tenant-a_s1/state.bin"));
        refused(overlapping, "mem.raw", "ForbiddenPath", "snapshot store");
    }

    @Test
    void theDefaultLayoutWithImagesInsideTheStateDirStillKeepsVmsAndSnapshotsOut() throws IOException {
        // Default: state /var/lib/kubevmm, images /var/lib/kubevmm/images.
        Path defaultImages = Files.createDirectories(state.resolve("images"));
        Files.writeString(defaultImages.resolve("vmlinuz"), "kernel");
        Files.createSymbolicLink(defaultImages.resolve("other-vm.qcow2"), state.resolve("vms/tenant-a_db/disk-data.qcow2"));
        Files.createSymbolicLink(defaultImages.resolve("memory.raw"), state.resolve("snapshots/tenant-a_snap/state.bin"));
        ImagePaths paths = new ImagePaths(defaultImages, state);
        assertThat(paths.resolve("spec.boot.kernel.path", "vmlinuz")).isEqualTo(defaultImages.resolve("vmlinuz").toRealPath());
        refused(paths, "other-vm.qcow2", "ForbiddenPath", "leads out");
        refused(paths, "memory.raw", "ForbiddenPath", "leads out");
    }

    @Test
    void aMissingFileResolvesToItsPlaceSoTheEngineCanSayItIsMissing() throws IOException {
        assertThat(paths().resolve(FIELD, "not-there.qcow2")).isEqualTo(images.toRealPath().resolve("not-there.qcow2"));
        Files.createSymbolicLink(images.resolve("etc"), Path.of("/etc"));
        refused(paths(), "etc/kubevmm-no-such-file", "ForbiddenPath", "leads out");
    }
}
