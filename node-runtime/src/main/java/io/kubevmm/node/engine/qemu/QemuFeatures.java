package io.kubevmm.node.engine.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import io.kubevmm.node.engine.Accelerator;
import io.kubevmm.node.qmp.QemuVersion;
import io.kubevmm.node.qmp.QmpClient;
import io.kubevmm.node.qmp.QmpException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a running QEMU says it is and can do: its version ({@code query-version}), the
 * migration capabilities and parameters it knows ({@code query-migrate-capabilities},
 * {@code query-migrate-parameters}) and its QMP commands ({@code query-commands}). Every choice the engine makes by emulator release is a
 * method here, so each one is unit-testable on the replies of QEMU 7.2 and 10.
 */
public record QemuFeatures(QemuVersion version, String build, Set<String> migrationCapabilities,
                           Set<String> migrationParameters, Set<String> commands) {

    /** The migration capabilities the engine sets, in the order VMNode status lists them. */
    static final List<String> USED_CAPABILITIES = List.of("events", "postcopy-ram", "postcopy-preempt", "auto-converge",
            "background-snapshot", "multifd");

    public QemuFeatures {
        migrationCapabilities = Collections.unmodifiableSet(new LinkedHashSet<>(migrationCapabilities));
        migrationParameters = Collections.unmodifiableSet(new LinkedHashSet<>(migrationParameters));
        commands = Collections.unmodifiableSet(new LinkedHashSet<>(commands));
    }

    /** Asks the QEMU behind {@code qmp}. */
    public static QemuFeatures query(QmpClient qmp, Duration timeout) throws QmpException {
        return fromReplies(qmp.execute("query-version", Map.of(), timeout),
                qmp.execute("query-migrate-capabilities", Map.of(), timeout),
                qmp.execute("query-migrate-parameters", Map.of(), timeout),
                qmp.execute("query-commands", Map.of(), timeout));
    }

    /** From the {@code return} members of the four queries; a missing {@code commands} reply (null) lists none. */
    static QemuFeatures fromReplies(JsonNode version, JsonNode capabilities, JsonNode parameters, JsonNode commands) {
        JsonNode qemu = version.path("qemu");
        Set<String> caps = new LinkedHashSet<>();
        for (JsonNode cap : capabilities) {
            caps.add(cap.path("capability").asText());
        }
        Set<String> params = new LinkedHashSet<>();
        parameters.fieldNames().forEachRemaining(params::add);
        Set<String> names = new LinkedHashSet<>();
        if (commands != null) {
            for (JsonNode command : commands) {
                names.add(command.path("name").asText());
            }
        }
        return new QemuFeatures(new QemuVersion(qemu.path("major").asInt(), qemu.path("minor").asInt(), qemu.path("micro").asInt()),
                version.path("package").asText(""), caps, params, names);
    }

    /** Only a version, for code that has nothing else (the command line; unit tests): no migration feature. */
    public static QemuFeatures ofVersion(QemuVersion version) {
        return new QemuFeatures(version, "", Set.of(), Set.of(), Set.of());
    }

    public boolean supports(String migrationCapability) {
        return migrationCapabilities.contains(migrationCapability);
    }

    /**
     * Pre-copy migration under TCG loses guest writes when guest RAM is a multiple of 256 KiB: the
     * dirty bitmap misses pages TCG wrote, fixed in QEMU 9.0 ("physmem: Fix migration dirty bitmap
     * coherency with TCG memory access"). No capability tells it apart; the release does.
     */
    public boolean losesTcgWritesDuringMigration(Accelerator accelerator) {
        return accelerator == Accelerator.TCG && !version.isAtLeast(9, 0);
    }

    /** {@code -run-with user=} replaced the deprecated {@code -runas} in 9.1. */
    public boolean hasRunWith() {
        return version.isAtLeast(9, 1);
    }

    /**
     * Post-copy page requests the target faults on get a connection of their own (QEMU 8.0+,
     * {@code postcopy-preempt}): they no longer queue behind the background pages of the main
     * stream. It is one more connection the source QEMU opens to the target's address, so only a
     * relayed stream can carry it (see {@code MigrationStreams}). 7.2 lists the capability too,
     * but 8.0 changed when and how the channel is set up (QEMU keeps the old way for 7.2 machine
     * types only), and only 10 is tested with it here: before 8.0 it stays off.
     */
    public boolean hasPostcopyPreempt() {
        return supports("postcopy-preempt") && version.isAtLeast(8, 0);
    }

    /**
     * {@code announce-self}: the guest's NICs send RARP frames with their MAC (and a guest that
     * supports it is asked to announce itself too), so switches and overlay networks learn where
     * the guest is now. QEMU does this on its own once after an incoming migration; the command
     * repeats it on demand.
     */
    public boolean hasAnnounceSelf() {
        return commands.contains("announce-self");
    }

    /** The migration capabilities this QEMU knows that the engine sets, for VMNode status. */
    public List<String> capabilitiesInUse() {
        List<String> used = new ArrayList<>();
        for (String cap : USED_CAPABILITIES) {
            if (cap.equals("postcopy-preempt") ? hasPostcopyPreempt() : supports(cap)) {
                used.add(cap);
            }
        }
        return used;
    }
}
