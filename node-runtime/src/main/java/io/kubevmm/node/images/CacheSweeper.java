package io.kubevmm.node.images;

import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Removes cached images nothing uses. The rule (also in docs/images.md): an entry of the image
 * cache is removed when
 * <ol>
 *   <li>no qcow2 file under the reference roots (every VM's state dir and the snapshot store)
 *       names it as its backing file, so no disk of any VM on this node, running or stopped, and
 *       no snapshot stored here reads it; and</li>
 *   <li>it was last used (a VM start or restart that named it) longer ago than {@code keepUnused};
 *       and</li>
 *   <li>it is not being downloaded.</li>
 * </ol>
 * Partial downloads ({@code .part}) with no download running are removed at once.
 */
public final class CacheSweeper {
    private static final Logger LOG = Logger.getLogger(CacheSweeper.class);
    private static final int QCOW2_MAGIC = 0x514649fb;

    private final ImageCache cache;
    private final List<Path> referenceRoots;
    private final Duration keepUnused;
    private final Clock clock;

    public CacheSweeper(ImageCache cache, List<Path> referenceRoots, Duration keepUnused, Clock clock) {
        this.cache = cache;
        this.referenceRoots = List.copyOf(referenceRoots);
        this.keepUnused = keepUnused;
        this.clock = clock;
    }

    /** One pass; returns the cache files it removed. */
    public List<Path> sweep() {
        List<Path> removed = new ArrayList<>();
        if (!Files.isDirectory(cache.dir())) {
            return removed;
        }
        Set<Path> referenced;
        try {
            referenced = referenced();
        } catch (IllegalStateException incomplete) {
            return removed;
        }
        Instant cutoff = clock.instant().minus(keepUnused);
        try (Stream<Path> files = Files.list(cache.dir())) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                String sha = name.endsWith(".part") ? name.substring(0, name.length() - 5) : name;
                if (cache.downloading(sha)) {
                    continue;
                }
                boolean remove = name.endsWith(".part")
                        || (!referenced.contains(f.toAbsolutePath().normalize())
                        && Files.getLastModifiedTime(f, LinkOption.NOFOLLOW_LINKS).toInstant().isBefore(cutoff));
                if (remove && Files.deleteIfExists(f)) {
                    removed.add(f);
                    LOG.infof("image cache: removed %s (unused for more than %s)", name, keepUnused);
                }
            }
        } catch (IOException e) {
            LOG.warnf("image cache: sweep of %s stopped: %s", cache.dir(), e.getMessage());
        }
        return removed;
    }

    /** Every file a qcow2 under the reference roots names as its backing file, absolute. */
    Set<Path> referenced() {
        Set<Path> backing = new HashSet<>();
        for (Path root : referenceRoots) {
            if (!Files.isDirectory(root)) {
                continue;
            }
            try (Stream<Path> files = Files.walk(root)) {
                files.filter(f -> f.getFileName().toString().endsWith(".qcow2") && Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS))
                        .forEach(f -> backingFile(f).ifPresent(b -> backing.add(f.getParent().resolve(b).toAbsolutePath().normalize())));
            } catch (IOException | java.io.UncheckedIOException e) {
                // A tree that cannot be read may hold references: keep everything this time.
                LOG.warnf("image cache: cannot read %s (%s); nothing is removed this pass", root, e.getMessage());
                throw new IllegalStateException("reference scan incomplete", e);
            }
        }
        return backing;
    }

    /** The backing file name in a qcow2 header, if it has one. */
    static Optional<String> backingFile(Path qcow2) {
        try (FileChannel in = FileChannel.open(qcow2, StandardOpenOption.READ)) {
            ByteBuffer header = ByteBuffer.allocate(20);
            while (header.hasRemaining() && in.read(header) > 0) {
                // read the fixed part
            }
            header.flip();
            if (header.remaining() < 20 || header.getInt(0) != QCOW2_MAGIC) {
                return Optional.empty();
            }
            long offset = header.getLong(8);
            int size = header.getInt(16);
            if (offset == 0 || size <= 0 || size > 4096) {
                return Optional.empty();
            }
            ByteBuffer name = ByteBuffer.allocate(size);
            in.position(offset);
            while (name.hasRemaining() && in.read(name) > 0) {
                // read the name
            }
            return Optional.of(new String(name.array(), 0, name.position(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            return Optional.of(""); // unreadable: counts as a reference to nothing in the cache
        }
    }
}
