package io.kubevmm.node.engine.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.engine.EngineException.Reason;
import io.kubevmm.node.engine.IncomingMigration;
import io.kubevmm.node.engine.MigrationTotals;
import io.kubevmm.node.engine.MigrationTuning;
import io.kubevmm.node.engine.OutgoingMigration;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.engine.MigrationSample;
import io.kubevmm.node.engine.MigrationStatus;
import org.jboss.logging.Logger;

import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Live migration through QMP, both ends. Memory goes over a unix socket (the node runtime's
 * tunnel relay sits behind it) or over an authenticated TCP connection whose descriptor is passed
 * to QEMU ({@code getfd}, then an {@code fd:} URI on the same monitor); disks are mirrored into an NBD export of the target beforehand, in
 * write-blocking mode so the copies stay identical until the source stops. A UEFI guest's variables
 * flash moves the same way: its contents also travel in the memory stream, but the target's file
 * must hold them too, or the next write of a variable would mix the two.
 */
final class QemuMigration implements OutgoingMigration, IncomingMigration {
    private static final Logger LOG = Logger.getLogger(QemuMigration.class);
    /** QEMU 7.2 caps migration at 128 MiB/s unless told otherwise; "no cap" has to be spelled out. */
    private static final long UNLIMITED_BANDWIDTH = 64L << 30;
    private static final int THROTTLE_INITIAL = 20;
    private static final int THROTTLE_INCREMENT = 10;
    /** The names passed descriptors go by in QEMU's monitor; {@code fd:} consumes (and forgets) them. */
    private static final String INCOMING_FD = "migration-in";
    private static final String OUTGOING_FD = "migration-out";

    private final QemuInstance instance;
    private final List<String> mirrorJobs = new ArrayList<>();

    QemuMigration(QemuInstance instance) {
        this.instance = instance;
    }

    private VmConfig config() {
        return instance.config();
    }

    private static String exportName(VmConfig.Disk disk) {
        return "disk-" + disk.name();
    }

    /** Block node, NBD export and mirror job of the UEFI variables flash (disk exports all start with "disk-"). */
    private static final String UEFI_VARS_NODE = "uefi-vars";
    private static final String UEFI_VARS_JOB = "firmware-vars";

    // ---- target side ----

    @Override
    public void listen(Path socket, boolean postcopy, int multifdChannels, boolean postcopyPreempt) throws EngineException {
        setCapabilities(Map.of("events", true, "postcopy-ram", postcopy, "postcopy-preempt", postcopyPreempt && postcopy,
                "background-snapshot", false, "multifd", multifdChannels > 0));
        if (multifdChannels > 0) {
            instance.command("migrate-set-parameters", Map.of("multifd-channels", multifdChannels));
        }
        instance.command("migrate-incoming", Map.of("uri", "unix:" + socket));
    }

    @Override
    public void expectConnection(boolean postcopy) throws EngineException {
        // The emulator was started with -incoming defer: it waits until migrate-incoming names the stream.
        // A handed-over connection is one: no preempt channel besides it.
        setCapabilities(Map.of("events", true, "postcopy-ram", postcopy, "postcopy-preempt", false, "background-snapshot", false,
                "multifd", false));
    }

    @Override
    public void receive(SocketChannel connection) throws EngineException {
        instance.passFd(INCOMING_FD, connection);
        useFd(INCOMING_FD, "migrate-incoming");
    }

    @Override
    public void exportDisks(Path socket) throws EngineException {
        if (!config().hasBlockState()) {
            return;
        }
        // nbd-server-start still takes the legacy address form ({type, data: {...}}).
        instance.command("nbd-server-start", Map.of("addr", Map.of("type", "unix", "data", Map.of("path", socket.toString()))));
        for (VmConfig.Disk disk : config().disks()) {
            instance.command("block-export-add", Map.of("type", "nbd", "id", exportName(disk),
                    "node-name", exportName(disk), "name", exportName(disk), "writable", true));
        }
        if (config().hasUefiVars()) {
            instance.command("block-export-add", Map.of("type", "nbd", "id", UEFI_VARS_NODE,
                    "node-name", UEFI_VARS_NODE, "name", UEFI_VARS_NODE, "writable", true));
        }
    }

    @Override
    public MigrationStatus status() throws EngineException {
        return QueryMigrate.status(instance.command("query-migrate", Map.of()));
    }

    /** QEMU's own defaults for the announcement after a migration: 5 rounds, from 50 ms, 100 ms more each, at most 550 ms. */
    private static final Map<String, Object> ANNOUNCE = Map.of("initial", 50, "max", 550, "rounds", 5, "step", 100);

    @Override
    public boolean announce() throws EngineException {
        if (!instance.features().hasAnnounceSelf()) {
            return false;
        }
        instance.command("announce-self", ANNOUNCE);
        return true;
    }

    @Override
    public void stopDiskExport() {
        if (!config().hasBlockState()) {
            return;
        }
        try {
            instance.command("nbd-server-stop", Map.of());
        } catch (EngineException e) {
            LOG.debugf("nbd-server-stop on %s: %s", config().id(), e.getMessage());
        }
    }

    // ---- source side ----

    @Override
    public void mirrorDisks(Path nbdSocket, Duration timeout) throws EngineException {
        for (VmConfig.Disk disk : config().disks()) {
            String job = "mirror-" + disk.name();
            instance.command("blockdev-add", Map.of("driver", "nbd", "node-name", job,
                    "server", Map.of("type", "unix", "path", nbdSocket.toString()), "export", exportName(disk)));
            // "top": only this VM's own layer moves; a base image exists on every node already. Once
            // snapshots added layers of its own below the active one, the whole disk has to move.
            boolean ownLayersBelow = !DiskLayers.activeLayer(config(), disk).equals(disk.file(config().stateDir()));
            instance.command("blockdev-mirror", Map.of("job-id", job, "device", instance.snapshots().activeNode(disk), "target", job,
                    "sync", ownLayersBelow ? "full" : "top", "copy-mode", "write-blocking", "auto-dismiss", false));
            mirrorJobs.add(job);
        }
        if (config().hasUefiVars()) {
            instance.command("blockdev-add", Map.of("driver", "nbd", "node-name", UEFI_VARS_JOB,
                    "server", Map.of("type", "unix", "path", nbdSocket.toString()), "export", UEFI_VARS_NODE));
            instance.command("blockdev-mirror", Map.of("job-id", UEFI_VARS_JOB, "device", UEFI_VARS_NODE, "target", UEFI_VARS_JOB,
                    "sync", "full", "copy-mode", "write-blocking", "auto-dismiss", false));
            mirrorJobs.add(UEFI_VARS_JOB);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!allMirrorsReady()) {
            if (System.nanoTime() > deadline) {
                throw new EngineException(Reason.OperationFailed, "disks of " + config().id() + " not in sync after " + timeout);
            }
            QemuInstance.sleepQuietly(50);
        }
    }

    private boolean allMirrorsReady() throws EngineException {
        JsonNode jobs = instance.command("query-block-jobs", Map.of());
        int ready = 0;
        for (JsonNode job : jobs) {
            if (mirrorJobs.contains(job.path("device").asText())) {
                String status = job.path("status").asText();
                if ("concluded".equals(status) || "aborting".equals(status)) {
                    throw new EngineException(Reason.OperationFailed, "disk mirror " + job.path("device").asText()
                            + " stopped: " + job.path("error").asText(status));
                }
                if (job.path("ready").asBoolean(false)) {
                    ready++;
                }
            }
        }
        return ready == mirrorJobs.size();
    }

    @Override
    public void start(Path socket, MigrationTuning tuning) throws EngineException {
        prepareOutgoing(tuning);
        instance.command("migrate", Map.of("uri", "unix:" + socket));
    }

    @Override
    public void start(SocketChannel connection, MigrationTuning tuning) throws EngineException {
        if (tuning.multifdChannels() > 0) {
            // Each multifd channel is a connection of its own QEMU opens to the same address: a passed descriptor is one.
            throw new EngineException(Reason.OperationFailed, "VM " + config().id()
                    + ": multifd needs a socket address to connect its channels to, not a handed-over connection");
        }
        if (tuning.postcopyPreempt()) {
            throw new EngineException(Reason.OperationFailed, "VM " + config().id()
                    + ": postcopy-preempt needs a socket address to open its channel to, not a handed-over connection");
        }
        prepareOutgoing(tuning);
        instance.passFd(OUTGOING_FD, connection);
        useFd(OUTGOING_FD, "migrate");
    }

    /** Runs {@code command} on the passed descriptor; if it refuses, QEMU's copy is closed rather than left behind. */
    private void useFd(String name, String command) throws EngineException {
        try {
            instance.command(command, Map.of("uri", "fd:" + name));
        } catch (EngineException e) {
            try {
                instance.command("closefd", Map.of("fdname", name));
            } catch (EngineException notThere) {
                // The command consumed it before failing.
            }
            throw e;
        }
    }

    /**
     * QEMU's downtime-limit is the pause it predicts from what remains and the measured bandwidth;
     * the real pause adds the device state and the last dirty pages, and overshoots further on a
     * loaded host (measured here: 326 ms against a 300 ms limit under a 16 MiB/s cap). Aiming at
     * two thirds keeps the measured downtime within what the user allowed.
     */
    static long switchoverTarget(long maxDowntimeMillis) {
        return Math.max(1, maxDowntimeMillis * 2 / 3);
    }

    private void prepareOutgoing(MigrationTuning tuning) throws EngineException {
        // background-snapshot off explicitly: a snapshot interrupted by a node-runtime restart can leave it
        // on, and then "migrate" would write a snapshot instead of moving the guest.
        Map<String, Boolean> caps = new LinkedHashMap<>();
        caps.put("events", true);
        caps.put("postcopy-ram", tuning.postcopy());
        caps.put("postcopy-preempt", tuning.postcopyPreempt());
        caps.put("auto-converge", tuning.autoConverge());
        caps.put("background-snapshot", false);
        caps.put("multifd", tuning.multifdChannels() > 0);
        setCapabilities(caps);
        Map<String, Object> parameters = new LinkedHashMap<>();
        if (tuning.multifdChannels() > 0) {
            parameters.put("multifd-channels", tuning.multifdChannels());
        }
        parameters.put("downtime-limit", switchoverTarget(tuning.maxDowntimeMillis()));
        parameters.put("max-bandwidth", tuning.bandwidthBytesPerSecond() > 0 ? tuning.bandwidthBytesPerSecond() : UNLIMITED_BANDWIDTH);
        parameters.put("max-postcopy-bandwidth", 0);
        parameters.put("cpu-throttle-initial", THROTTLE_INITIAL);
        parameters.put("cpu-throttle-increment", THROTTLE_INCREMENT);
        instance.command("migrate-set-parameters", parameters);
    }

    @Override
    public MigrationSample progress(long elapsedMillis) throws EngineException {
        return QueryMigrate.sample(instance.command("query-migrate", Map.of()), elapsedMillis);
    }

    @Override
    public MigrationTotals totals() throws EngineException {
        JsonNode info = instance.command("query-migrate", Map.of());
        // QEMU reports downtime in whole milliseconds: 0 is a measurement (a switchover under
        // 1 ms), a missing field is not, so a migration that has not completed is refused here.
        if (!"completed".equals(info.path("status").asText()) || !info.has("downtime")) {
            throw new EngineException(Reason.OperationFailed, "migration of " + config().id()
                    + " has no measured totals yet (QEMU status " + info.path("status").asText("none") + ")");
        }
        JsonNode ram = info.path("ram");
        return new MigrationTotals(info.path("downtime").asLong(), info.path("total-time").asLong(),
                info.path("setup-time").asLong(), ram.path("transferred").asLong(), ram.path("dirty-sync-count").asLong());
    }

    @Override
    public void setThrottleIncrement(int percent) throws EngineException {
        instance.command("migrate-set-parameters", Map.of("cpu-throttle-increment", Math.max(1, Math.min(100, percent))));
    }

    @Override
    public void startPostcopy() throws EngineException {
        instance.command("migrate-start-postcopy", Map.of());
    }

    @Override
    public void cancel() {
        try {
            instance.command("migrate_cancel", Map.of());
        } catch (EngineException e) {
            LOG.debugf("migrate_cancel on %s: %s", config().id(), e.getMessage());
        }
        cancelMirrors();
    }

    @Override
    public void finishDiskMirrors() throws EngineException {
        // Cancelling a ready mirror ends it without a pivot: this side keeps its own disks, the target's copy is complete.
        for (String job : mirrorJobs) {
            instance.command("block-job-cancel", Map.of("device", job));
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            boolean running = false;
            for (JsonNode job : instance.command("query-block-jobs", Map.of())) {
                if (mirrorJobs.contains(job.path("device").asText()) && !"concluded".equals(job.path("status").asText())) {
                    running = true;
                }
            }
            if (!running) {
                dismissMirrors();
                return;
            }
            QemuInstance.sleepQuietly(20);
        }
        throw new EngineException(Reason.OperationFailed, "disk mirrors of " + config().id() + " did not finish");
    }

    private void cancelMirrors() {
        for (String job : mirrorJobs) {
            try {
                instance.command("block-job-cancel", Map.of("device", job, "force", true));
            } catch (EngineException e) {
                LOG.debugf("cancel of %s: %s", job, e.getMessage());
            }
        }
        dismissMirrors();
    }

    private void dismissMirrors() {
        for (String job : mirrorJobs) {
            try {
                instance.command("job-dismiss", Map.of("id", job));
            } catch (EngineException e) {
                LOG.debugf("dismiss of %s: %s", job, e.getMessage());
            }
        }
        mirrorJobs.clear();
    }

    private void setCapabilities(Map<String, Boolean> wanted) throws EngineException {
        instance.setMigrationCapabilities(wanted);
    }
}
