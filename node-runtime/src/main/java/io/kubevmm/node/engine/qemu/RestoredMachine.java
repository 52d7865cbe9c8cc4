package io.kubevmm.node.engine.qemu;

import io.kubevmm.node.engine.VmConfig;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The machine a guest's QEMU was launched with when it loaded a saved state stream (resume from
 * disk, restore of a full-state snapshot): the stream's {@link SavedMachine}, which may be an
 * older release's (machine type {@code pc-q35-7.2}, RAM padded under TCG). VMI status must say
 * what that guest has, not what this release would give the spec, for as long as the QEMU runs;
 * the next fresh boot takes the spec again. Kept as a small file in the VM's state dir, so a
 * node runtime that restarts and adopts the running QEMU still knows.
 */
final class RestoredMachine {
    private static final Logger LOG = Logger.getLogger(RestoredMachine.class);
    static final String FILE = "restored-machine";

    private RestoredMachine() { }

    /** The guest now runs in {@code saved}'s machine; null: in the spec's (the record is removed). */
    static void set(VmConfig config, SavedMachine saved) {
        Path file = config.stateDir().resolve(FILE);
        try {
            if (saved == null) {
                Files.deleteIfExists(file);
            } else {
                Files.writeString(file, saved.machineType() + " " + saved.memoryBytes() + " " + saved.firmwareBytes() + "\n",
                        StandardCharsets.US_ASCII);
            }
        } catch (IOException e) {
            LOG.warnf("cannot record the machine of %s in %s (VMI status then shows the spec's): %s", config.id(), file, e.getMessage());
        }
    }

    /** The saved machine the guest's running QEMU was launched with; empty when it booted from the spec. */
    static Optional<SavedMachine> of(VmConfig config) {
        Path file = config.stateDir().resolve(FILE);
        try {
            if (!Files.exists(file)) {
                return Optional.empty();
            }
            String[] parts = Files.readString(file, StandardCharsets.US_ASCII).trim().split(" ");
            return Optional.of(new SavedMachine(parts[0], Long.parseLong(parts[1]), Long.parseLong(parts[2])));
        } catch (IOException | RuntimeException e) {
            LOG.warnf("cannot read %s: %s", file, e.getMessage());
            return Optional.empty();
        }
    }
}
