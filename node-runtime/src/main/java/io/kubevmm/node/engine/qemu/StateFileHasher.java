package io.kubevmm.node.engine.qemu;

import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.engine.EngineException.Reason;
import io.kubevmm.node.files.Sha256;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Hashes a state file while its writer is still appending to it, so the SHA-256 of a
 * multi-hundred-MiB file is ready a moment after the file is, instead of costing a second full
 * read afterwards; the writer's path never waits for the digest, and the hasher only reads what
 * already sits in the page cache.
 *
 * <p>Whoever completes the file (after QEMU's fd: stream, or {@code cat > partial && mv partial done}) renames the
 * file only once it wrote everything, so {@code done} existing means the file is complete. The
 * hasher keeps the partial file open, which stays the same file across the rename.
 */
final class StateFileHasher {
    private static final int CHUNK = 1 << 20;

    /** A complete file: its size and hex SHA-256. */
    record Written(long bytes, String sha256) { }

    private final CompletableFuture<Written> result = new CompletableFuture<>();
    private volatile boolean abandoned;

    static StateFileHasher follow(Path partial, Path done) {
        StateFileHasher hasher = new StateFileHasher();
        Thread.ofPlatform().daemon().name("state-hash-" + done.getFileName()).start(() -> hasher.run(partial, done));
        return hasher;
    }

    private void run(Path partial, Path done) {
        try {
            MessageDigest sha = Sha256.digest();
            while (!Files.exists(partial)) {
                if (abandoned) {
                    throw new IOException("abandoned before " + partial + " appeared");
                }
                Thread.sleep(1);
            }
            ByteBuffer buf = ByteBuffer.allocate(CHUNK);
            long total = 0;
            try (FileChannel in = FileChannel.open(partial, StandardOpenOption.READ)) {
                boolean complete = false;
                while (true) {
                    int n = in.read(buf);
                    if (n > 0) {
                        sha.update(buf.array(), 0, buf.position());
                        total += buf.position();
                        buf.clear();
                    } else if (complete) {
                        break; // read to the end after the writer finished
                    } else if (Files.exists(done)) {
                        complete = true;
                    } else if (abandoned) {
                        throw new IOException("abandoned while " + partial + " was written");
                    } else {
                        Thread.sleep(2);
                    }
                }
            }
            result.complete(new Written(total, Sha256.hex(sha)));
        } catch (IOException | InterruptedException e) {
            result.completeExceptionally(e);
        }
    }

    Written await(Duration timeout) throws EngineException {
        try {
            return result.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new EngineException(Reason.OperationFailed, "hashing the state file failed: " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new EngineException(Reason.OperationFailed, "the state file was not complete within " + timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException(Reason.OperationFailed, "interrupted while hashing the state file", e);
        }
    }

    /** Stops following a file that will never complete (the snapshot failed). */
    void abandon() {
        abandoned = true;
    }
}
