package io.kubevmm.node.lifecycle;

import com.fasterxml.jackson.annotation.JsonInclude;
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
 * What a node runtime must remember about a VM across its own restarts, kept in the VM's state
 * dir next to the pidfile: boot timestamps and where the current boot's console output starts.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RuntimeRecord(Instant createdTime, Instant startedTime, Instant guestReadyTime, Long bootMillis,
                            long consoleOffset, int restartCount) {
    private static final Logger LOG = Logger.getLogger(RuntimeRecord.class);
    private static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
    static final String FILE = "runtime.json";

    static Optional<RuntimeRecord> read(Path stateDir) {
        Path file = stateDir.resolve(FILE);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(file.toFile(), RuntimeRecord.class));
        } catch (IOException e) {
            LOG.warnf("ignoring unreadable %s: %s", file, e.getMessage());
            return Optional.empty();
        }
    }

    void write(Path stateDir) {
        Path file = stateDir.resolve(FILE);
        Path tmp = stateDir.resolve(FILE + ".tmp");
        try {
            Files.createDirectories(stateDir);
            JSON.writeValue(tmp.toFile(), this);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            LOG.warnf("cannot record runtime state in %s: %s", file, e.getMessage());
        }
    }
}
