package io.kubevmm.node.snapshot;

import io.kubevmm.node.engine.EngineException;

import java.nio.file.Path;

/** A snapshot artifact is missing, truncated or corrupt; the message and {@link #file()} name it. */
public class SnapshotIntegrityException extends EngineException {
    private final Path file;

    public SnapshotIntegrityException(Path file, String message) {
        super(Reason.StateUnusable, message);
        this.file = file;
    }

    public Path file() { return file; }
}
