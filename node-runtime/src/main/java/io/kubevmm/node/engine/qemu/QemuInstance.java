package io.kubevmm.node.engine.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import io.kubevmm.node.engine.DiskChain;
import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.engine.FullStateCapture;
import io.kubevmm.node.engine.GuestPort;
import io.kubevmm.node.engine.EngineException.Reason;
import io.kubevmm.node.engine.IncomingMigration;
import io.kubevmm.node.engine.OutgoingMigration;
import io.kubevmm.node.engine.ProcessLiveness;
import io.kubevmm.node.engine.RunState;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.engine.VmEvent;
import io.kubevmm.node.engine.VmmInstance;
import io.kubevmm.node.qmp.QmpClient;
import io.kubevmm.node.qmp.QmpEvent;
import io.kubevmm.node.qmp.QmpException;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** One QEMU process, driven through its QMP socket. */
final class QemuInstance implements VmmInstance {
    private static final Logger LOG = Logger.getLogger(QemuInstance.class);
    private static final Duration QUIT_GRACE = Duration.ofSeconds(5);
    private static final Duration STATE_TRANSFER_TIMEOUT = Duration.ofMinutes(10);
    /** Saving to the node's own disk should not be throttled by QEMU's network-minded default. */
    private static final long LOCAL_SAVE_BANDWIDTH = 8L << 30;

    private final VmConfig config;
    private final ProcessHandle process;
    private final QmpClient qmp;
    private final QemuFeatures features;
    private final List<Consumer<VmEvent>> listeners = new CopyOnWriteArrayList<>();
    private volatile boolean exitExpected;
    private final QemuMigration migration = new QemuMigration(this);
    private final QemuSnapshots snapshots;
    private final UserNetForwards forwards = new UserNetForwards(this);

    QemuInstance(VmConfig config, ProcessHandle process, QmpClient qmp, QemuFeatures features, DiskLayers layers,
                 ProcessExitSource exitSource) {
        this.config = config;
        this.process = process;
        this.qmp = qmp;
        this.features = features;
        this.snapshots = new QemuSnapshots(this, layers);
        qmp.addEventListener(snapshots::onEvent);
        qmp.addEventListener(this::onQmpEvent);
        exitSource.onExit(code -> {
            if (!exitExpected) {
                emit(new VmEvent.ProcessExited(code, QemuProcesses.logTail(config.emulatorLog())));
            }
        });
    }

    /** How the instance learns that its process ended: our child's exit code, or -1 for an adopted one. */
    interface ProcessExitSource {
        void onExit(java.util.function.IntConsumer action);
    }

    @Override
    public VmConfig config() { return config; }

    /** What this guest's QEMU said it is over QMP; the release and capabilities its operations are chosen by. */
    QemuFeatures features() { return features; }

    @Override
    public long pid() { return process.pid(); }

    @Override
    public RunState runState() {
        if (!ProcessLiveness.running(process) || !qmp.isOpen()) {
            return RunState.GONE;
        }
        try {
            String status = qmp.execute("query-status", Map.of(), Duration.ofSeconds(5)).path("status").asText();
            return switch (status) {
                case "prelaunch", "inmigrate" -> RunState.CREATED;
                case "running" -> RunState.RUNNING;
                case "shutdown" -> RunState.SHUTDOWN;
                case "guest-panicked" -> RunState.CRASHED;
                case "postmigrate" -> RunState.MIGRATED;
                default -> RunState.PAUSED;
            };
        } catch (QmpException e) {
            return ProcessLiveness.running(process) ? RunState.PAUSED : RunState.GONE;
        }
    }

    @Override
    public OutgoingMigration outgoing() { return migration; }

    @Override
    public IncomingMigration incoming() { return migration; }

    @Override
    public List<DiskChain> snapshotDisks() throws EngineException {
        return snapshots.snapshotDisks();
    }

    @Override
    public FullStateCapture snapshotFullState(Path stateFile) throws EngineException {
        return snapshots.snapshotFullState(stateFile, null);
    }

    @Override
    public FullStateCapture snapshotFullState(Path stateFile, Runnable armed) throws EngineException {
        return snapshots.snapshotFullState(stateFile, armed);
    }

    @Override
    public List<Path> mergeUnsharedLayers() throws EngineException {
        return snapshots.mergeUnsharedLayers();
    }

    QemuSnapshots snapshots() { return snapshots; }

    @Override
    public void resume() throws EngineException {
        command("cont", Map.of());
    }

    @Override
    public void pause() throws EngineException {
        command("stop", Map.of());
    }

    @Override
    public void reset() throws EngineException {
        command("system_reset", Map.of());
    }

    @Override
    public boolean guestAgentChannelOpen() {
        if (!config.hasGuestAgentChannel()) {
            return false;
        }
        try {
            for (JsonNode chardev : qmp.execute("query-chardev", Map.of(), Duration.ofSeconds(5))) {
                if (QemuCommandLine.GUEST_AGENT_CHARDEV.equals(chardev.path("label").asText())) {
                    return chardev.path("frontend-open").asBoolean(false);
                }
            }
        } catch (QmpException e) {
            LOG.debugf("%s: query-chardev: %s", config.id(), e.getMessage());
        }
        return false;
    }

    @Override
    public void requestPowerDown() throws EngineException {
        command("system_powerdown", Map.of());
    }

    @Override
    public long saveState() throws EngineException {
        Path target = config.suspendStateFile();
        Path partial = target.resolveSibling(target.getFileName() + ".partial");
        try {
            Files.deleteIfExists(partial);
        } catch (IOException e) {
            throw new EngineException(Reason.OperationFailed, "cannot clear " + partial + ": " + e.getMessage(), e);
        }
        command("migrate-set-parameters", Map.of("max-bandwidth", LOCAL_SAVE_BANDWIDTH));
        command("stop", Map.of());
        command("migrate", Map.of("uri", "exec:cat > " + shellQuote(partial)));
        awaitMigration("save state to " + target);
        try {
            // Only a complete stream gets the real name: a half-written file is never restorable.
            Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            long size = Files.size(target);
            destroy();
            return size;
        } catch (IOException e) {
            throw new EngineException(Reason.OperationFailed, "saved state but cannot keep " + target + ": " + e.getMessage(), e);
        }
    }

    /** Loads state written by {@link #saveState()} into this (incoming, paused) instance. */
    void loadState() throws EngineException {
        loadState(config.suspendStateFile());
    }

    /** Loads a saved state stream (suspend or snapshot) into this incoming, paused instance. */
    void loadState(Path source) throws EngineException {
        command("migrate-incoming", Map.of("uri", "exec:cat " + shellQuote(source)));
        awaitMigration("load state from " + source);
    }

    private void awaitMigration(String what) throws EngineException {
        long deadline = System.nanoTime() + STATE_TRANSFER_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode info = command("query-migrate", Map.of());
            String status = info.path("status").asText("none");
            switch (status) {
                case "completed" -> { return; }
                case "failed", "cancelled" -> throw new EngineException(Reason.StateUnusable,
                        "QEMU could not " + what + ": " + info.path("error-desc").asText(status)
                                + tailSuffix());
                default -> sleepQuietly(20);
            }
            if (!ProcessLiveness.running(process)) {
                throw new EngineException(Reason.EmulatorFailed, "QEMU exited while trying to " + what + tailSuffix());
            }
        }
        throw new EngineException(Reason.OperationFailed, "QEMU did not " + what + " within " + STATE_TRANSFER_TIMEOUT);
    }

    String qemuSaid() {
        return tailSuffix();
    }

    private String tailSuffix() {
        String tail = QemuProcesses.logTail(config.emulatorLog());
        return tail.isEmpty() ? "" : " (QEMU said: " + tail + ")";
    }

    @Override
    public GuestPort openGuestPort(int guestPort, Duration timeout) throws EngineException {
        return forwards.open(guestPort, timeout);
    }

    @Override
    public void destroy() {
        exitExpected = true;
        if (ProcessLiveness.running(process) && qmp.isOpen()) {
            try {
                qmp.execute("quit", Map.of(), QUIT_GRACE);
            } catch (QmpException e) {
                LOG.debugf("quit of %s: %s", config.id(), e.getMessage());
            }
        }
        try {
            ProcessLiveness.exited(process).get(QUIT_GRACE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            LOG.warnf("QEMU %d of %s did not quit; killing it", process.pid(), config.id());
            process.destroyForcibly();
            try {
                ProcessLiveness.exited(process).get(QUIT_GRACE.toMillis(), TimeUnit.MILLISECONDS);
            } catch (Exception again) {
                LOG.errorf("QEMU %d of %s survived SIGKILL", process.pid(), config.id());
            }
        }
        qmp.close();
        try {
            Files.deleteIfExists(config.qmpSocket());
            Files.deleteIfExists(config.pidFile());
        } catch (IOException e) {
            LOG.debugf("cleanup of %s: %s", config.id(), e.getMessage());
        }
    }

    @Override
    public void addListener(Consumer<VmEvent> listener) {
        listeners.add(listener);
    }

    private void onQmpEvent(QmpEvent event) {
        switch (event.name()) {
            case "SHUTDOWN" -> {
                String reason = event.data().path("reason").asText();
                // A panic is reported once, by GUEST_PANICKED; host-initiated shutdowns are ours.
                if (event.data().path("guest").asBoolean(false) && !"guest-panic".equals(reason)) {
                    emit("guest-reset".equals(reason) ? new VmEvent.GuestReset() : new VmEvent.GuestPoweredOff());
                }
            }
            case "VSERPORT_CHANGE" -> {
                if (QemuCommandLine.GUEST_AGENT_PORT_ID.equals(event.data().path("id").asText())) {
                    emit(new VmEvent.GuestAgentChannel(event.data().path("open").asBoolean(false)));
                }
            }
            case "GUEST_PANICKED" -> emit(new VmEvent.GuestCrashed("guest kernel panicked (pvpanic)"));
            case "RESET" -> {
                if (event.data().path("guest").asBoolean(false)) {
                    emit(new VmEvent.GuestReset());
                }
            }
            default -> { }
        }
    }

    private void emit(VmEvent event) {
        for (Consumer<VmEvent> listener : listeners) {
            try {
                listener.accept(event);
            } catch (RuntimeException e) {
                LOG.errorf(e, "listener failed on %s of %s", event, config.id());
            }
        }
    }

    /** Gives QEMU a copy of {@code socket}'s descriptor as {@code name}, for an {@code fd:<name>} URI on this monitor. */
    void passFd(String name, java.nio.channels.SocketChannel socket) throws EngineException {
        try {
            qmp.passFd(name, socket);
        } catch (QmpException e) {
            throw new EngineException(ProcessLiveness.running(process) ? Reason.OperationFailed : Reason.EmulatorFailed,
                    "VM " + config.id() + ": " + e.getMessage(), e);
        }
    }

    /** Gives QEMU a copy of an open file's descriptor under {@code name} ({@code getfd}), for an {@code fd:} URI. */
    void passFd(String name, java.io.FileDescriptor file) throws EngineException {
        try {
            qmp.executeWithFd("getfd", Map.of("fdname", name), io.kubevmm.node.qmp.FdPassing.descriptor(file), QmpClient.DEFAULT_TIMEOUT);
        } catch (QmpException | IOException e) {
            throw new EngineException(ProcessLiveness.running(process) ? Reason.OperationFailed : Reason.EmulatorFailed,
                    "VM " + config.id() + ": cannot pass the state file: " + e.getMessage(), e);
        }
    }

    /**
     * Sets the capabilities this QEMU knows. One it does not know is off already, so asking it off
     * is skipped; asking it on is refused with the release that lacks it.
     */
    void setMigrationCapabilities(Map<String, Boolean> wanted) throws EngineException {
        List<Map<String, Object>> caps = new ArrayList<>();
        for (Map.Entry<String, Boolean> cap : wanted.entrySet()) {
            if (features.supports(cap.getKey())) {
                caps.add(Map.of("capability", cap.getKey(), "state", cap.getValue()));
            } else if (cap.getValue()) {
                throw new EngineException(Reason.OperationFailed, "VM " + config.id() + ": QEMU "
                        + features.version() + " has no migration capability " + cap.getKey());
            }
        }
        command("migrate-set-capabilities", Map.of("capabilities", caps));
    }

    JsonNode command(String name, Map<String, ?> args) throws EngineException {
        try {
            return qmp.execute(name, args);
        } catch (QmpException e) {
            throw new EngineException(ProcessLiveness.running(process) ? Reason.OperationFailed : Reason.EmulatorFailed,
                    "VM " + config.id() + ": " + e.getMessage(), e);
        }
    }

    /** Sends a command without waiting for its reply (from an event listener, which must not block). */
    void commandAsync(String name) {
        qmp.executeAsync(name, Map.of());
    }

    static String shellQuote(Path path) {
        return "'" + path.toString().replace("'", "'\\''") + "'";
    }

    static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
