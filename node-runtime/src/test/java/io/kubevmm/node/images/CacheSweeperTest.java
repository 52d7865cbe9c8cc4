package io.kubevmm.node.images;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.Executors;

import static org.assertj.core.api.Assertions.assertThat;

/** The documented rule for removing cached images, against real qcow2 overlays made by qemu-img. */
class CacheSweeperTest {
    static final Instant NOW = Instant.parse("2026-12-03T12:00:00Z");

    @TempDir
    Path state;

    @Test
    void onlyImagesNoDiskOrSnapshotUsesAndUnusedForLongerThanTheRuleSaysAreRemoved() throws Exception {
        Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
        ImageCache cache = new ImageCache(state.resolve("image-cache"), HttpClient.newHttpClient(),
                Executors.newVirtualThreadPerTaskExecutor(), Duration.ofSeconds(5), Duration.ofSeconds(30), clock);
        Files.createDirectories(cache.dir());
        Path usedByVm = image(cache, "a", Duration.ofDays(2));
        Path usedBySnapshot = image(cache, "b", Duration.ofDays(2));
        Path recentlyUsed = image(cache, "c", Duration.ofMinutes(10));
        Path unused = image(cache, "d", Duration.ofHours(2));
        Path leftover = cache.dir().resolve("e".repeat(64) + ".part");
        Files.write(leftover, new byte[10]);
        overlay(state.resolve("vms/default_web/disk-root.qcow2"), usedByVm);
        overlay(state.resolve("snapshots/default_snap/disk-root.qcow2"), usedBySnapshot);

        CacheSweeper sweeper = new CacheSweeper(cache, java.util.List.of(state.resolve("vms"), state.resolve("snapshots")),
                Duration.ofHours(1), clock);
        assertThat(sweeper.sweep()).containsExactlyInAnyOrder(unused, leftover);
        assertThat(usedByVm).exists();
        assertThat(usedBySnapshot).exists();
        assertThat(recentlyUsed).exists();
        assertThat(sweeper.sweep()).as("a second pass finds nothing more").isEmpty();
    }

    @Test
    void theBackingFileIsReadFromTheQcow2Header() throws Exception {
        Path base = state.resolve("base.raw");
        Files.write(base, new byte[1 << 20]);
        Path top = state.resolve("top.qcow2");
        overlay(top, base);
        assertThat(CacheSweeper.backingFile(top)).contains(base.toString());
        assertThat(CacheSweeper.backingFile(base)).as("a raw file names nothing").isEmpty();
    }

    private static Path image(ImageCache cache, String digit, Duration lastUsedAgo) throws Exception {
        Path file = cache.file(digit.repeat(64));
        Files.write(file, new byte[1 << 20]);
        Files.setLastModifiedTime(file, FileTime.from(NOW.minus(lastUsedAgo)));
        return file;
    }

    private static void overlay(Path overlay, Path base) throws Exception {
        Files.createDirectories(overlay.getParent());
        Process p = new ProcessBuilder("qemu-img", "create", "-q", "-f", "qcow2", "-b", base.toString(), "-F", "raw", overlay.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(out).isZero();
    }
}
