package io.kubevmm.node.images;

import io.kubevmm.node.files.Sha256;
import io.kubevmm.node.images.ImageState.Reason;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * One fetch of one image into the cache: streamed to {@code <sha256>.part} while hashed, checked
 * against the expected SHA-256, then renamed to its final name in one atomic step, so a file
 * under the final name is always complete and verified (a crash leaves only a {@code .part}).
 * The SHA-256 is computed here rather than with a shared helper, on purpose (one pass over the
 * bytes as they arrive).
 */
final class Download {
    /** Thrown with the reason a status reports. */
    static final class Failure extends Exception {
        final Reason reason;

        Failure(Reason reason, String message, Throwable cause) {
            super(message, cause);
            this.reason = reason;
        }
    }

    private static final int BUFFER = 1 << 16;

    private final HttpClient client;
    private final Duration timeout;
    private volatile long bytes;
    private volatile long total = -1;

    Download(HttpClient client, Duration timeout) {
        this.client = client;
        this.timeout = timeout;
    }

    long bytes() { return bytes; }

    long total() { return total; }

    /**
     * Fetches {@code url} into {@code target} when its SHA-256 is {@code sha256}.
     * @param usableSpace bytes the cache may still fill (checked against Content-Length first)
     */
    void fetch(String url, String sha256, Path target, LongSupplier usableSpace) throws Failure {
        Path part = target.resolveSibling(target.getFileName() + ".part");
        HttpResponse<InputStream> response;
        try {
            response = client.send(HttpRequest.newBuilder(URI.create(url)).timeout(timeout).GET().build(),
                    HttpResponse.BodyHandlers.ofInputStream());
        } catch (HttpConnectTimeoutException | ConnectException | UnresolvedAddressException e) {
            throw new Failure(Reason.ImageUnreachable, "cannot connect to " + hostOf(url) + " (" + describe(e) + ")", e);
        } catch (HttpTimeoutException e) {
            throw new Failure(Reason.ImageUnreachable, hostOf(url) + " did not answer within " + timeout.toSeconds() + " s", e);
        } catch (IOException e) {
            throw new Failure(unreachableCause(e) ? Reason.ImageUnreachable : Reason.ImageDownloadFailed,
                    "cannot fetch from " + hostOf(url) + " (" + describe(e) + ")", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure(Reason.ImageDownloadFailed, "interrupted", e);
        }
        try (InputStream in = response.body()) {
            int status = response.statusCode();
            if (status == 404 || status == 410) {
                throw new Failure(Reason.ImageNotFound, "the server answered HTTP " + status + ": no image at that URL", null);
            }
            if (status / 100 != 2) {
                throw new Failure(Reason.ImageDownloadFailed, "the server answered HTTP " + status, null);
            }
            total = response.headers().firstValueAsLong("Content-Length").orElse(-1);
            long room = usableSpace.getAsLong();
            if (total > room) {
                throw new Failure(Reason.ImageDiskFull, "the image has " + total + " bytes and the node's image cache only "
                        + room + " bytes free; free space in the node's state dir", null);
            }
            String actual = copy(in, part);
            if (total >= 0 && bytes != total) {
                throw new Failure(Reason.ImageDownloadFailed, "the transfer ended after " + bytes + " of " + total + " bytes", null);
            }
            if (!actual.equals(sha256)) {
                throw new Failure(Reason.ImageChecksumMismatch, "the downloaded image has SHA-256 " + actual + ", not " + sha256
                        + " as spec'd; fix the sha256 or the URL", null);
            }
            Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new Failure(noSpace(e) ? Reason.ImageDiskFull : Reason.ImageDownloadFailed, noSpace(e)
                    ? "the node's image cache ran out of space after " + bytes + " bytes; free space in the node's state dir"
                    : "the transfer broke after " + bytes + " bytes (" + describe(e) + ")", e);
        } finally {
            try {
                Files.deleteIfExists(part);
            } catch (IOException ignored) {
                // a leftover .part is removed by the next attempt or the sweep
            }
        }
    }

    private String copy(InputStream in, Path part) throws IOException {
        MessageDigest digest = Sha256.digest();
        byte[] buffer = new byte[BUFFER];
        try (OutputStream out = Files.newOutputStream(part)) {
            int n;
            while ((n = in.read(buffer)) > 0) {
                out.write(buffer, 0, n);
                digest.update(buffer, 0, n);
                bytes += n;
            }
        }
        return Sha256.hex(digest);
    }

    private static boolean noSpace(IOException e) {
        return e.getMessage() != null && e.getMessage().contains("No space left on device");
    }

    private static boolean unreachableCause(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ConnectException || t instanceof UnresolvedAddressException || t instanceof java.net.UnknownHostException
                    || t instanceof java.net.NoRouteToHostException) {
                return true;
            }
        }
        return false;
    }

    private static String describe(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getMessage() == null) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
    }

    /** The URL's host and port only: paths and queries may carry tokens that do not belong in status. */
    static String hostOf(String url) {
        URI uri = URI.create(url);
        return uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort());
    }
}
