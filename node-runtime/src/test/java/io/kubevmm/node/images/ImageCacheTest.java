package io.kubevmm.node.images;

import io.kubevmm.node.images.ImageState.Reason;
import io.kubevmm.node.testing.ImageServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The node's image cache against a real HTTP server on loopback. */
class ImageCacheTest {
    @TempDir
    Path tmp;
    ImageServer server;
    ExecutorService downloads;
    Path image;
    String sha;
    final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-12-03T12:00:00Z"));
    final List<ImageCache.Outcome> outcomes = new CopyOnWriteArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        server = new ImageServer();
        downloads = Executors.newVirtualThreadPerTaskExecutor();
        image = tmp.resolve("base.raw");
        byte[] bytes = new byte[3 << 20];
        new Random(15).nextBytes(bytes);
        Files.write(image, bytes);
        sha = ImageServer.sha256(image);
    }

    @AfterEach
    void tearDown() {
        server.close();
        downloads.shutdownNow();
    }

    ImageCache cache() {
        Clock clock = new Clock() {
            @Override public ZoneOffset getZone() { return ZoneOffset.UTC; }
            @Override public Clock withZone(java.time.ZoneId zone) { return this; }
            @Override public Instant instant() { return now.get(); }
        };
        ImageCache cache = new ImageCache(tmp.resolve("state/image-cache"), HttpClient.newHttpClient(), downloads,
                Duration.ofSeconds(10), Duration.ofSeconds(30), clock);
        cache.onOutcome(outcomes::add);
        return cache;
    }

    static ImageState settled(ImageCache cache, String url, String sha) {
        AtomicReference<ImageState> state = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            state.set(cache.ensure(url, sha));
            return !(state.get() instanceof ImageState.Downloading);
        });
        return state.get();
    }

    @Test
    void concurrentStartsWaitForOneDownloadAndShareTheVerifiedFile() throws Exception {
        ImageCache cache = cache();
        String url = server.serve("base.raw", image);
        server.holdAnswers();
        int vms = 8;
        CountDownLatch go = new CountDownLatch(1);
        List<ImageState> first = new CopyOnWriteArrayList<>();
        List<Thread> starts = new ArrayList<>();
        for (int i = 0; i < vms; i++) {
            starts.add(Thread.ofVirtual().start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                first.add(cache.ensure(url, sha));
            }));
        }
        go.countDown();
        for (Thread t : starts) {
            t.join();
        }
        assertThat(first).hasSize(vms).allSatisfy(s -> assertThat(s).isInstanceOf(ImageState.Downloading.class));
        server.release();

        ImageState done = settled(cache, url, sha);
        assertThat(done).isEqualTo(new ImageState.Ready(cache.file(sha)));
        assertThat(server.requests("base.raw")).isEqualTo(1);
        assertThat(cache.file(sha)).hasSameBinaryContentAs(image);
        assertThat(cache.ensure(url, sha)).isEqualTo(done);
        assertThat(server.requests("base.raw")).as("a cached image is not fetched again").isEqualTo(1);
        assertThat(outcomes).singleElement().satisfies(o -> {
            assertThat(o.failure()).isNull();
            assertThat(o.bytes()).isEqualTo(Files.size(image));
        });
        assertThat(Files.list(cache.dir()).map(p -> p.getFileName().toString()).toList()).containsExactly(sha);
    }

    @Test
    void aBadChecksumIsRefusedAndNothingIsCached() throws Exception {
        ImageCache cache = cache();
        String wrong = "0".repeat(64);
        ImageState state = settled(cache, server.serve("base.raw", image), wrong);
        assertThat(state).isInstanceOfSatisfying(ImageState.Failed.class, f -> {
            assertThat(f.reason()).isEqualTo(Reason.ImageChecksumMismatch);
            assertThat(f.message()).contains("has SHA-256 " + sha + ", not " + wrong);
        });
        assertThat(Files.list(cache.dir()).toList()).as("no file, no .part").isEmpty();
    }

    @Test
    void aMissingImageIsNotFound() {
        ImageState state = settled(cache(), server.url("nothing-here.qcow2"), sha);
        assertThat(state).isInstanceOfSatisfying(ImageState.Failed.class, f -> {
            assertThat(f.reason()).isEqualTo(Reason.ImageNotFound);
            assertThat(f.message()).contains("HTTP 404");
        });
    }

    @Test
    void anUnreachableServerIsReportedSo() throws Exception {
        int port;
        try (ServerSocket closed = new ServerSocket(0)) {
            port = closed.getLocalPort();
        }
        ImageState state = settled(cache(), "http://127.0.0.1:" + port + "/base.raw", sha);
        assertThat(state).isInstanceOfSatisfying(ImageState.Failed.class, f -> {
            assertThat(f.reason()).isEqualTo(Reason.ImageUnreachable);
            assertThat(f.message()).startsWith("cannot connect to 127.0.0.1:" + port);
        });
    }

    @Test
    void anImageLargerThanTheFreeSpaceIsRefusedBeforeItIsWritten() throws Exception {
        ImageCache cache = cache();
        long petabyte = 1L << 50;
        ImageState state = settled(cache, server.claimLength("huge.raw", image, petabyte), sha);
        assertThat(state).isInstanceOfSatisfying(ImageState.Failed.class, f -> {
            assertThat(f.reason()).isEqualTo(Reason.ImageDiskFull);
            assertThat(f.message()).contains("the image has " + petabyte + " bytes");
        });
        assertThat(Files.list(cache.dir()).toList()).isEmpty();
    }

    @Test
    void aFailureIsKeptForItsRetryDelayThenTriedAgain() throws Exception {
        ImageCache cache = cache();
        String url = server.url("later.raw");
        assertThat(settled(cache, url, sha)).isInstanceOf(ImageState.Failed.class);
        server.serve("later.raw", image);
        assertThat(cache.ensure(url, sha)).as("within the retry delay").isInstanceOf(ImageState.Failed.class);
        assertThat(server.requests("later.raw")).isEqualTo(1);
        now.set(now.get().plusSeconds(31));
        assertThat(settled(cache, url, sha)).isEqualTo(new ImageState.Ready(cache.file(sha)));
        assertThat(server.requests("later.raw")).isEqualTo(2);
    }
}
