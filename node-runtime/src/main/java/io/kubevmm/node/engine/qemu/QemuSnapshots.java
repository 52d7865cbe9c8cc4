package io.kubevmm.node.engine.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import io.kubevmm.node.engine.DiskChain;
import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.engine.EngineException.Reason;
import io.kubevmm.node.engine.FullStateCapture;
import io.kubevmm.node.engine.RunState;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.qmp.FdPassing;
import io.kubevmm.node.qmp.QmpEvent;
import org.jboss.logging.Logger;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Snapshots of a running QEMU. Disks: external qcow2 overlays switched in one QMP
 * {@code transaction} of {@code blockdev-snapshot}s (the overlays are created and attached
 * beforehand, so the switch itself only drains in-flight I/O). Full state: vCPUs stop, the disks
 * switch, and a {@code background-snapshot} migration arms write-protection on guest RAM and
 * restarts the vCPUs itself; memory then streams out copy-on-write while the guest runs, and is
 * hashed as it lands ({@link StateFileHasher}). Without disks QEMU stops and restarts the vCPUs
 * on its own, so the pause is exactly QEMU's.
 */
final class QemuSnapshots {
    private static final Logger LOG = Logger.getLogger(QemuSnapshots.class);
    private static final long LOCAL_BANDWIDTH = 64L << 30;
    private static final Duration STATE_TIMEOUT = Duration.ofMinutes(10);
    private static final String STATE_FD = "snapshot-state";

    private final QemuInstance instance;
    private final DiskLayers layers;
    private volatile Instant lastStop;
    private volatile Instant lastResume;
    /** Set while snapshotting a paused guest: QEMU's background snapshot restarts the vCPUs regardless. */
    private volatile boolean keepPaused;

    QemuSnapshots(QemuInstance instance, DiskLayers layers) {
        this.instance = instance;
        this.layers = layers;
    }

    /** Fed every QMP event: the STOP and RESUME timestamps measure the guest's pause. */
    void onEvent(QmpEvent event) {
        switch (event.name()) {
            case "STOP" -> lastStop = event.timestamp();
            case "RESUME" -> {
                lastResume = event.timestamp();
                if (keepPaused) {
                    // QEMU 7.2's background snapshot calls vm_start() once armed, even for a guest
                    // that was paused: stop it again at once (it ran only for this round trip).
                    instance.snapshots().reStop();
                }
            }
            default -> { }
        }
    }

    private VmConfig config() {
        return instance.config();
    }

    /** A disk's overlay created and attached, ready to be switched to. */
    private record Prepared(VmConfig.Disk disk, String activeNode, Path activeFile, String overlayNode, Path overlayFile) { }

    List<DiskChain> snapshotDisks() throws EngineException {
        List<Prepared> prepared = prepare();
        try {
            switchToOverlays(prepared);
        } catch (EngineException e) {
            discard(prepared);
            throw e;
        }
        FirmwareFiles.capture(config());
        return frozenChains(prepared);
    }

    /** {@code armed}: run (if not null) once the instant is fixed: write-protection armed, the guest running again. */
    FullStateCapture snapshotFullState(Path stateFile, Runnable armed) throws EngineException {
        long started = System.nanoTime();
        RunState before = instance.runState();
        if (before != RunState.RUNNING && before != RunState.PAUSED) {
            throw new EngineException(Reason.OperationFailed, "VM " + config().id() + " is " + before.name().toLowerCase()
                    + "; a full-state snapshot needs a running or paused guest (a Disk snapshot works in any state)");
        }
        boolean wasRunning = before == RunState.RUNNING;
        keepPaused = !wasRunning;
        List<Prepared> prepared = new ArrayList<>();
        Path partial = stateFile.resolveSibling(stateFile.getFileName() + ".part");
        Instant stopBefore = lastStop;
        boolean switched = false;
        // QEMU writes the state straight into a file we open and pass it (getfd, then fd:): no
        // process in between, and nothing forks inside the pause. Where descriptors cannot be
        // passed, exec:cat does it, with a fork of QEMU inside the migrate command (3-10 ms of
        // pause when the vCPUs are already stopped for a disk switch).
        java.io.FileOutputStream direct = null;
        if (FdPassing.available()) {
            try {
                direct = new java.io.FileOutputStream(partial.toFile());
                instance.passFd(STATE_FD, direct.getFD());
            } catch (java.io.IOException | EngineException e) {
                closeQuietly(direct);
                throw e instanceof EngineException ee ? ee : new EngineException(Reason.OperationFailed,
                        "cannot create " + partial + ": " + e.getMessage(), e);
            }
        }
        StateFileHasher hasher = StateFileHasher.follow(partial, stateFile);
        try {
            // Background snapshot refuses to start with any of these on (a live migration may have set them).
            setCapabilities(Map.of("events", true, "postcopy-ram", false, "postcopy-preempt", false, "auto-converge", false,
                    "background-snapshot", true));
            instance.command("migrate-set-parameters", Map.of("max-bandwidth", LOCAL_BANDWIDTH));
            prepared.addAll(prepare());
            if (!prepared.isEmpty()) {
                flushToHost(prepared);
                // vCPUs stop here so the disks freeze at the instant the memory is captured; the
                // background snapshot restarts them once write-protection is armed.
                instance.command("stop", Map.of());
                switchToOverlays(prepared);
                switched = true;
            }
            FirmwareFiles.capture(config()); // inside the pause when there are disks; the flash rarely changes anyway
            String uri = direct != null ? "fd:" + STATE_FD : "exec:cat > " + QemuInstance.shellQuote(partial)
                    + " && mv " + QemuInstance.shellQuote(partial) + " " + QemuInstance.shellQuote(stateFile);
            instance.command("migrate", Map.of("uri", uri));
            if (armed != null) {
                awaitResumeAfter(wasRunning ? stopBefore : null); // running again: armed (a paused guest: at once)
                armed.run();
            }
            awaitCompletion();
            if (direct != null) {
                closeQuietly(direct); // QEMU closed its copy at completion; the file is whole
                direct = null;
                move(partial, stateFile);
            }
            StateFileHasher.Written written = hasher.await(Duration.ofMinutes(1));
            long durationMillis = (System.nanoTime() - started) / 1_000_000;
            return new FullStateCapture(frozenChains(prepared), stateFile, written.bytes(), written.sha256(),
                    wasRunning ? pauseMillis(stopBefore) : 0, durationMillis);
        } catch (EngineException e) {
            hasher.abandon();
            if (!switched) {
                discard(prepared);
            }
            throw e;
        } finally {
            keepPaused = false;
            if (!wasRunning && instance.runState() == RunState.RUNNING) {
                instance.command("stop", Map.of());
            }
            if (direct != null) {
                closeQuietly(direct);
                try {
                    instance.command("closefd", Map.of("fdname", STATE_FD));
                } catch (EngineException notThere) {
                    // migrate consumed it
                }
            }
            try {
                setCapabilities(Map.of("background-snapshot", false));
            } catch (EngineException e) {
                LOG.warnf("cannot switch off background-snapshot on %s: %s", config().id(), e.getMessage());
            }
            if (wasRunning && instance.runState() == RunState.PAUSED) {
                instance.command("cont", Map.of()); // a failed snapshot never leaves the guest stopped
            }
        }
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            if (c != null) {
                c.close();
            }
        } catch (java.io.IOException ignored) {
            // the stream failed already; its error is the one reported
        }
    }

    private static void move(Path from, Path to) throws EngineException {
        try {
            java.nio.file.Files.move(from, to, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (java.io.IOException e) {
            throw new EngineException(Reason.OperationFailed, "cannot complete " + to + ": " + e.getMessage(), e);
        }
    }

    void reStop() {
        instance.commandAsync("stop");
    }

    /** Pushes the disks' dirty page cache out while the guest runs: the flush inside the switch has little left. */
    private static void flushToHost(List<Prepared> prepared) {
        for (Prepared p : prepared) {
            try (java.nio.channels.FileChannel f = java.nio.channels.FileChannel.open(p.activeFile(), java.nio.file.StandardOpenOption.READ)) {
                f.force(false);
            } catch (java.io.IOException e) {
                LOG.debugf("early flush of %s: %s", p.activeFile(), e.getMessage()); // only an optimisation
            }
        }
    }

    /** Waits (up to 2 s) until the guest stopped for the capture and runs again: then it is armed. */
    private Instant awaitResumeAfter(Instant stopBefore) {
        Instant stop = lastStop;
        long deadline = System.nanoTime() + (stopBefore == null && keepPaused ? 0 : 2_000_000_000L);
        while (System.nanoTime() < deadline && (stop == null || stop.equals(stopBefore) || lastResume == null || lastResume.isBefore(stop))) {
            QemuInstance.sleepQuietly(5);
            stop = lastStop;
        }
        return stop;
    }

    private long pauseMillis(Instant stopBefore) throws EngineException {
        Instant stop = awaitResumeAfter(stopBefore);
        if (stop != null && !stop.equals(stopBefore) && lastResume != null && !lastResume.isBefore(stop)) {
            return Duration.between(stop, lastResume).toMillis();
        }
        return instance.command("query-migrate", Map.of()).path("downtime").asLong();
    }

    private void awaitCompletion() throws EngineException {
        long deadline = System.nanoTime() + STATE_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode info = instance.command("query-migrate", Map.of());
            switch (info.path("status").asText("none")) {
                case "completed" -> { return; }
                case "failed", "cancelled" -> throw new EngineException(Reason.OperationFailed, "QEMU could not snapshot "
                        + config().id() + ": " + info.path("error-desc").asText("migration " + info.path("status").asText()));
                default -> QemuInstance.sleepQuietly(10);
            }
        }
        instance.command("migrate_cancel", Map.of());
        throw new EngineException(Reason.OperationFailed, "snapshot of " + config().id() + " did not finish within " + STATE_TIMEOUT);
    }

    // ---- disks ----

    private List<Prepared> prepare() throws EngineException {
        Map<String, JsonNode> inserted = insertedByDisk();
        List<Prepared> prepared = new ArrayList<>();
        try {
            for (VmConfig.Disk disk : config().disks()) {
                JsonNode active = inserted.get(disk.name());
                if (active == null) {
                    throw new EngineException(Reason.OperationFailed, "disk '" + disk.name() + "' of " + config().id()
                            + " is not attached to the running QEMU");
                }
                Path activeFile = DiskLayers.activeLayer(config(), disk);
                long size = active.path("image").path("virtual-size").asLong();
                Path overlay = layers.prepareOverlay(config(), disk, activeFile, size);
                String node = nodeName(disk, overlay);
                prepared.add(new Prepared(disk, active.path("node-name").asText(), activeFile, node, overlay));
                Map<String, Object> add = new LinkedHashMap<>();
                add.put("driver", "qcow2");
                add.put("node-name", node);
                add.put("file", Map.of("driver", "file", "filename", overlay.toString()));
                add.put("backing", null); // attached by blockdev-snapshot, to the node QEMU already has open
                instance.command("blockdev-add", add);
            }
        } catch (EngineException e) {
            discard(prepared);
            throw e;
        }
        return prepared;
    }

    /** Node names must be unique in the process and at most 31 characters. */
    private static String nodeName(VmConfig.Disk disk, Path overlay) {
        String file = overlay.getFileName().toString();
        String n = file.substring(("disk-" + disk.name() + ".").length(), file.length() - ".qcow2".length());
        String name = "disk-" + disk.name();
        String suffix = "-l" + n;
        return (name.length() + suffix.length() > 31 ? name.substring(0, 31 - suffix.length()) : name) + suffix;
    }

    private void switchToOverlays(List<Prepared> prepared) throws EngineException {
        if (prepared.isEmpty()) {
            return;
        }
        List<Map<String, Object>> actions = new ArrayList<>();
        for (Prepared p : prepared) {
            actions.add(Map.of("type", "blockdev-snapshot", "data", Map.of("node", p.activeNode(), "overlay", p.overlayNode())));
        }
        instance.command("transaction", Map.of("actions", actions)); // all disks switch at one instant, or none
        for (Prepared p : prepared) {
            DiskLayers.setActive(config(), p.disk(), p.overlayFile());
        }
    }

    private List<DiskChain> frozenChains(List<Prepared> prepared) throws EngineException {
        List<DiskChain> chains = new ArrayList<>();
        for (Prepared p : prepared) {
            chains.add(layers.chainFrom(config(), p.disk(), p.activeFile()));
        }
        return chains;
    }

    private void discard(List<Prepared> prepared) {
        for (Prepared p : prepared) {
            try {
                instance.command("blockdev-del", Map.of("node-name", p.overlayNode()));
            } catch (EngineException e) {
                LOG.debugf("blockdev-del %s: %s", p.overlayNode(), e.getMessage());
            }
            DiskLayers.deleteLayers(List.of(p.overlayFile()));
        }
    }

    /** Each disk's {@code query-block} "inserted" member (active node, image info), by disk name. */
    private Map<String, JsonNode> insertedByDisk() throws EngineException {
        Map<String, JsonNode> byDisk = new HashMap<>();
        for (JsonNode dev : instance.command("query-block", Map.of())) {
            String qdev = dev.path("qdev").asText();
            for (VmConfig.Disk disk : config().disks()) {
                if (qdev.equals(disk.name()) || qdev.contains("/" + disk.name() + "/")) {
                    byDisk.put(disk.name(), dev.path("inserted"));
                }
            }
        }
        return byDisk;
    }

    /** The node the guest's disk currently writes to (changes with each snapshot). */
    String activeNode(VmConfig.Disk disk) throws EngineException {
        JsonNode inserted = insertedByDisk().get(disk.name());
        return inserted == null ? "disk-" + disk.name() : inserted.path("node-name").asText();
    }

    // ---- merging layers nothing references any more ----

    List<Path> mergeUnsharedLayers() throws EngineException {
        List<Path> removed = new ArrayList<>();
        for (VmConfig.Disk disk : config().disks()) {
            DiskLayers.Merge merge = layers.planMerge(config(), disk);
            if (!merge.needed()) {
                continue;
            }
            String job = "merge-" + disk.name();
            Map<String, Object> args = new LinkedHashMap<>();
            args.put("job-id", job);
            args.put("device", activeNode(disk));
            if (merge.newBacking() != null) {
                args.put("base-node", nodeOf(merge.newBacking()));
                args.put("backing-file", merge.newBackingName());
            }
            // Stream copies the unshared layers' data up into the active overlay; the guest keeps writing meanwhile.
            instance.command("block-stream", args);
            awaitJobGone(job);
            List<Path> chain = layers.images().backingChain(merge.active());
            if (merge.unshared().stream().anyMatch(chain::contains)) {
                throw new EngineException(Reason.OperationFailed, "merging layers of disk '" + disk.name() + "' of "
                        + config().id() + " did not complete; the chain is unchanged" + instance.qemuSaid());
            }
            DiskLayers.deleteLayers(merge.unshared());
            removed.addAll(merge.unshared());
        }
        return removed;
    }

    private String nodeOf(Path file) throws EngineException {
        for (JsonNode node : instance.command("query-named-block-nodes", Map.of("flat", true))) {
            if (!"file".equals(node.path("drv").asText())
                    && Path.of(node.path("file").asText()).toAbsolutePath().normalize().equals(file.toAbsolutePath().normalize())) {
                return node.path("node-name").asText();
            }
        }
        throw new EngineException(Reason.OperationFailed, "QEMU of " + config().id() + " has no node for " + file);
    }

    private void awaitJobGone(String job) throws EngineException {
        long deadline = System.nanoTime() + STATE_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            boolean present = false;
            for (JsonNode j : instance.command("query-block-jobs", Map.of())) {
                if (job.equals(j.path("device").asText())) {
                    present = true;
                }
            }
            if (!present) {
                return;
            }
            QemuInstance.sleepQuietly(20);
        }
        throw new EngineException(Reason.OperationFailed, "block job " + job + " of " + config().id() + " did not finish");
    }

    private void setCapabilities(Map<String, Boolean> wanted) throws EngineException {
        instance.setMigrationCapabilities(wanted);
    }
}
