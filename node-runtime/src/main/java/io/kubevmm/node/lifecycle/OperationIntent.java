package io.kubevmm.node.lifecycle;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Optional;

/**
 * An operation QEMU carries out on its own once started (a save to disk, an outgoing live
 * migration), recorded in the VM's state dir before it starts and removed when it has ended.
 * A node runtime that finds one after a restart knows QEMU may have finished, or still be doing,
 * what its predecessor asked, and settles that before touching the emulator
 * ({@link RecoveryDecision}).
 *
 * @param operation     what was started
 * @param migrationName the VMMigration (outgoing migrations only)
 * @param migrationUid  its uid, so a newer migration of the same name is not mistaken for it
 * @param targetNode    where the guest was being sent
 * @param startTime     when the node runtime started it
 * @param wasRunning    the guest's vCPUs ran before the operation (an undone save resumes them)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record OperationIntent(Operation operation, String migrationName, String migrationUid, String targetNode,
                              Instant startTime, boolean wasRunning) {
    private static final Logger LOG = Logger.getLogger(OperationIntent.class);
    private static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    static final String FILE = "operation.json";

    /** Operations QEMU keeps running without the node runtime. */
    public enum Operation { SuspendToDisk, MigrateOut }

    public static OperationIntent suspendToDisk(boolean wasRunning) {
        return new OperationIntent(Operation.SuspendToDisk, null, null, null, Instant.now(), wasRunning);
    }

    public static OperationIntent migrateOut(String migrationName, String migrationUid, String targetNode, boolean wasRunning) {
        return new OperationIntent(Operation.MigrateOut, migrationName, migrationUid, targetNode, Instant.now(), wasRunning);
    }

    /** The intent left in {@code stateDir}, if any; an unreadable one is kept aside and reported. */
    public static Optional<OperationIntent> read(Path stateDir) {
        Path file = stateDir.resolve(FILE);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(file.toFile(), OperationIntent.class));
        } catch (IOException e) {
            // Written by rename, so it is whole or absent; unreadable means damaged storage. Nothing to act on.
            LOG.errorf("unreadable %s (%s); treating the VM as if no operation was under way", file, e.getMessage());
            return Optional.empty();
        }
    }

    /** Written to a temporary file and renamed: a crash leaves the old file or the new one, never half of it. */
    void write(Path stateDir) throws IOException {
        Files.createDirectories(stateDir);
        Path tmp = stateDir.resolve(FILE + ".tmp");
        JSON.writeValue(tmp.toFile(), this);
        try (var channel = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        Files.move(tmp, stateDir.resolve(FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    static void clear(Path stateDir) {
        try {
            Files.deleteIfExists(stateDir.resolve(FILE));
        } catch (IOException e) {
            LOG.warnf("cannot remove %s: %s", stateDir.resolve(FILE), e.getMessage());
        }
    }
}
