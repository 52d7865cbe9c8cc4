package io.kubevmm.node.images;

import java.nio.file.Path;
import java.util.Optional;

/** Test access to the qcow2 header reader of {@link CacheSweeper}. */
public final class CacheSweeperAccess {
    private CacheSweeperAccess() { }

    public static Optional<String> backingFile(Path qcow2) {
        return CacheSweeper.backingFile(qcow2);
    }
}
