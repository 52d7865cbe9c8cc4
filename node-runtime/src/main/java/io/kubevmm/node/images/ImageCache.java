package io.kubevmm.node.images;

import io.kubevmm.node.images.ImageState.Failed;
import io.kubevmm.node.images.ImageState.Reason;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * The node's cache of downloaded base images, {@code <stateDir>/image-cache/<sha256>}: an image is
 * fetched once per node, verified against the SHA-256 the spec gives, and shared by every VM
 * whose disk names it (their qcow2 overlays back onto the same file; the cache is keyed by the
 * checksum, so two URLs of the same bytes share one file too).
 *
 * <p>{@link #ensure} never blocks: the first caller starts the download on the executor and every
 * caller, concurrent or later, sees the same download's progress until it is {@link
 * ImageState.Ready} or {@link ImageState.Failed}. A failure is kept for {@code retryAfter} (so
 * a VM retrying does not hammer the server), then the next {@code ensure} tries again.
 * Each use sets the file's modification time: that is the "last used" time {@link CacheSweeper}
 * judges by.
 */
public final class ImageCache {
    private static final Logger LOG = Logger.getLogger(ImageCache.class);
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    /** What happened to a download, for Events and metrics; {@code failure} null on success. */
    public record Outcome(String sha256, String host, long bytes, Duration took, Failed failure) { }

    private final Path dir;
    private final HttpClient client;
    private final Executor executor;
    private final Duration timeout;
    private final Duration retryAfter;
    private final Clock clock;
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    private volatile Consumer<Outcome> listener = o -> { };

    /** One image being fetched, or whose last fetch failed. */
    private static final class Entry {
        final Download download;
        volatile Failed failed;

        Entry(Download download) {
            this.download = download;
        }
    }

    public ImageCache(Path dir, HttpClient client, Executor executor, Duration timeout, Duration retryAfter, Clock clock) {
        this.dir = dir.toAbsolutePath().normalize();
        this.client = client;
        this.executor = executor;
        this.timeout = timeout;
        this.retryAfter = retryAfter;
        this.clock = clock;
    }

    public Path dir() { return dir; }

    /** Called once per finished download (success or failure), on the downloading thread. */
    public void onOutcome(Consumer<Outcome> listener) {
        this.listener = listener;
    }

    /** Where the image with this checksum lives once it is cached. */
    public Path file(String sha256) {
        if (sha256 == null || !SHA256.matcher(sha256).matches()) {
            throw new IllegalArgumentException("not a SHA-256: " + sha256); // the spec validator refuses it first
        }
        return dir.resolve(sha256);
    }

    /** Whether a download of {@code sha256} is running now (the sweep leaves those alone). */
    boolean downloading(String sha256) {
        Entry e = entries.get(sha256);
        return e != null && e.failed == null;
    }

    /**
     * The state of the image {@code sha256} from {@code url}: starts its download when it is
     * neither cached nor being fetched (nor failed less than {@code retryAfter} ago).
     */
    public ImageState ensure(String url, String sha256) {
        Path file = file(sha256);
        if (Files.isRegularFile(file)) {
            touch(file);
            return new ImageState.Ready(file);
        }
        Entry entry = entries.compute(sha256, (key, current) -> {
            if (current != null && (current.failed == null || clock.instant().isBefore(current.failed.retryAt()))) {
                return current;
            }
            if (Files.isRegularFile(file)) {
                return null; // finished between the check above and now
            }
            Entry fresh = new Entry(new Download(client, timeout));
            executor.execute(() -> run(fresh, url, sha256, file));
            return fresh;
        });
        if (entry == null) {
            return new ImageState.Ready(file);
        }
        Failed failed = entry.failed;
        if (failed != null) {
            return failed;
        }
        if (Files.isRegularFile(file)) {
            return new ImageState.Ready(file);
        }
        return new ImageState.Downloading(entry.download.bytes(), entry.download.total());
    }

    private void run(Entry entry, String url, String sha256, Path file) {
        long start = System.nanoTime();
        Failed failure = null;
        try {
            Files.createDirectories(dir);
            LOG.infof("image %s: downloading from %s", sha256, Download.hostOf(url));
            entry.download.fetch(url, sha256, file, this::usableSpace);
            LOG.infof("image %s: %d bytes verified and cached", sha256, entry.download.bytes());
        } catch (Download.Failure f) {
            failure = new Failed(f.reason, f.getMessage(), clock.instant().plus(retryAfter));
        } catch (IOException | RuntimeException e) {
            failure = new Failed(Reason.ImageDownloadFailed, e.getClass().getSimpleName() + ": " + e.getMessage(),
                    clock.instant().plus(retryAfter));
        }
        if (failure != null) {
            LOG.warnf("image %s: %s: %s", sha256, failure.reason(), failure.message());
            entry.failed = failure;
        } else {
            entries.remove(sha256, entry);
        }
        try {
            listener.accept(new Outcome(sha256, Download.hostOf(url), entry.download.bytes(),
                    Duration.ofNanos(System.nanoTime() - start), failure));
        } catch (RuntimeException e) {
            LOG.warnf("image %s: reporting the download failed: %s", sha256, e.getMessage());
        }
    }

    private long usableSpace() {
        try {
            return Files.getFileStore(dir).getUsableSpace();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void touch(Path file) {
        try {
            Files.setLastModifiedTime(file, FileTime.from(clock.instant()));
        } catch (IOException e) {
            // only the sweep's "last used" is a little older than it should be
        }
    }
}
