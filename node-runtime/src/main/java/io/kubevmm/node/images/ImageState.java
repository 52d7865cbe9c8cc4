package io.kubevmm.node.images;

import java.nio.file.Path;
import java.time.Instant;

/** Where one cached image stands: usable, on its way, or refused (and why). */
public sealed interface ImageState {

    /** Verified and in the cache; {@code file} is what disks overlay. */
    record Ready(Path file) implements ImageState { }

    /** Being fetched: {@code bytes} so far of {@code totalBytes} (-1 when the server did not say). */
    record Downloading(long bytes, long totalBytes) implements ImageState {
        /** "12.0 MiB of 561.0 MiB (2%)" or "12.0 MiB". */
        public String progress() {
            String done = mib(bytes);
            return totalBytes > 0 ? done + " of " + mib(totalBytes) + " (" + (bytes * 100 / totalBytes) + "%)" : done;
        }

        private static String mib(long b) {
            return String.format(java.util.Locale.ROOT, "%.1f MiB", b / 1048576.0);
        }
    }

    /** The last attempt failed; another is made once {@code retryAt} has passed. */
    record Failed(Reason reason, String message, Instant retryAt) implements ImageState { }

    /** Why a download failed; the names are the status reasons and Event reasons. */
    enum Reason {
        /** The bytes arrived but their SHA-256 is not the one the spec gives. */
        ImageChecksumMismatch,
        /** The server answered 404 or 410. */
        ImageNotFound,
        /** No connection (refused, timed out, name not resolved). */
        ImageUnreachable,
        /** The node's cache has no room for the image. */
        ImageDiskFull,
        /** Anything else: another HTTP status, a broken transfer. */
        ImageDownloadFailed
    }
}
