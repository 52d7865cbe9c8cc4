package io.kubevmm.node.engine.qemu;

import io.kubevmm.node.engine.Accelerator;
import io.kubevmm.node.engine.DiskChain;
import io.kubevmm.node.engine.EmulatorUnreachableException;
import io.kubevmm.node.engine.SnapshotImage;
import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.engine.EngineException.Reason;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.engine.VmmEngine;
import io.kubevmm.node.engine.VmmInstance;
import io.kubevmm.node.qmp.QemuVersion;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Runs guests as QEMU processes, one per VM, each detached from the node runtime's session. */
public final class QemuEngine implements VmmEngine {
    private static final Logger LOG = Logger.getLogger(QemuEngine.class);

    private final String binary;
    private final Accelerator accelerator;
    /** What the binary is and the command line built for it; both replaced together when the binary changes. */
    private volatile Emulator emulator;
    private final QemuImages images;
    private final DiskLayers layers;
    private final QemuUser user;
    private final QemuProcesses processes;
    private final CloudInitSeed seeds = new CloudInitSeed();

    public QemuEngine(String binary, String qemuImg, AcceleratorChoice choice) {
        this(binary, qemuImg, choice, null);
    }

    /** {@code runAs}: unprivileged user QEMU drops to after start (see {@link QemuUser}), or null. */
    public QemuEngine(String binary, String qemuImg, AcceleratorChoice choice, String runAs) {
        this.binary = binary;
        this.accelerator = choice.resolve(binary);
        this.user = runAs == null || runAs.isBlank() ? null : new QemuUser(runAs);
        this.emulator = emulatorFor(QemuProbe.features(binary));
        this.images = new QemuImages(qemuImg);
        this.layers = new DiskLayers(images);
        this.processes = new QemuProcesses(binary, layers);
        LOG.infof("QEMU %s with %s, migration capabilities in use %s; %s", emulator.features().version(), accelerator,
                emulator.features().capabilitiesInUse(), confinement());
    }

    /** A QEMU release and the command line built for it. */
    private record Emulator(QemuFeatures features, QemuCommandLine commandLine) { }

    private Emulator emulatorFor(QemuFeatures features) {
        return new Emulator(features, new QemuCommandLine(binary, accelerator, features, user == null ? null : user.name()));
    }

    /** What the node's QEMU said over QMP about itself. */
    public QemuFeatures features() {
        return emulator.features();
    }

    /** The command line guests of this engine get (benchmarks run raw QEMU with it). */
    public QemuCommandLine commandLine() {
        return emulator.commandLine();
    }

    /** How guests are confined on this node, in words (logged, and shown in VMNode status). */
    @Override
    public String confinement() {
        return user == null
                ? "QEMU runs under a seccomp sandbox as the node runtime's own user (privileged; set KUBEVMM_NODE_QEMU_USER to drop privileges)"
                : "QEMU runs under a seccomp sandbox as user " + user.name();
    }

    @Override
    public boolean runsUnprivileged() {
        return user != null;
    }

    /** QEMU takes a connection as a passed file descriptor ({@code getfd}), where this JVM can pass one. */
    @Override
    public boolean takesConnections() {
        if (!io.kubevmm.node.qmp.FdPassing.available()) {
            io.kubevmm.node.qmp.FdPassing.logFallbackOnce("migration streams are relayed through the node runtime instead");
            return false;
        }
        return true;
    }

    /** What the operator configured: use KVM when it works ({@code auto}), or force one. */
    public enum AcceleratorChoice {
        AUTO, KVM, TCG;

        Accelerator resolve(String binary) {
            return switch (this) {
                case KVM -> Accelerator.KVM;
                case TCG -> Accelerator.TCG;
                case AUTO -> QemuProbe.kvmUsable(binary) ? Accelerator.KVM : Accelerator.TCG;
            };
        }
    }

    @Override
    public Accelerator accelerator() { return accelerator; }

    @Override
    public String version() { return emulator.features().version().toString(); }

    @Override
    public List<String> capabilities() { return emulator.features().capabilitiesInUse(); }

    @Override
    public boolean separatesPostcopyRequests() { return emulator.features().hasPostcopyPreempt(); }

    @Override
    public long effectiveMemoryBytes(VmConfig config) {
        return emulator.commandLine().effectiveMemoryBytes(config, RestoredMachine.of(config).orElse(null));
    }

    @Override
    public List<String> workarounds(VmConfig config) {
        return emulator.commandLine().workarounds(config, RestoredMachine.of(config).orElse(null));
    }

    @Override
    public Optional<VmmInstance> adopt(VmConfig config) throws EmulatorUnreachableException {
        return processes.adopt(config);
    }

    @Override
    public VmmInstance create(VmConfig config) throws EngineException {
        prepare(config);
        RestoredMachine.set(config, null);
        return launch(config, line -> line.forCreate(config, launchFiles(config)));
    }

    @Override
    public VmmInstance restore(VmConfig config) throws EngineException {
        if (!Files.isReadable(config.suspendStateFile())) {
            throw new EngineException(Reason.StateUnusable, "saved state " + config.suspendStateFile() + " is missing");
        }
        prepare(config);
        QemuCommandLine.Launch launch = launchFiles(config).loading(savedMachine(config.suspendStateFile()));
        QemuInstance instance = launch(config, line -> line.forIncoming(config, false, launch));
        try {
            instance.loadState();
            RestoredMachine.set(config, launch.savedMachine());
            return instance;
        } catch (EngineException e) {
            instance.destroy();
            throw e;
        }
    }

    @Override
    public VmmInstance createIncoming(VmConfig config) throws EngineException {
        // The disks arrive from the source (mirror). Layers snapshots left here earlier may be
        // shared with the store: the mirror gets a new, empty layer instead of writing into them.
        for (VmConfig.Disk disk : config.disks()) {
            if (Files.exists(DiskLayers.pointer(config, disk))) {
                Path fresh = DiskLayers.nextLayer(config, disk);
                images.create(disk, fresh);
                DiskLayers.setActive(config, disk, fresh);
            }
        }
        prepare(config);
        RestoredMachine.set(config, null);
        return launch(config, line -> line.forIncoming(config, true, launchFiles(config)));
    }

    /**
     * The machine that wrote a state stream, so that one saved by another release (before an
     * upgrade) loads; null if the head is not one this reader knows (QEMU then says what is wrong).
     */
    private static SavedMachine savedMachine(Path stateFile) throws EngineException {
        try {
            SavedMachine saved = SavedMachine.of(stateFile).orElse(null);
            if (saved == null) {
                LOG.warnf("%s does not start like a QEMU state stream this engine knows; loading it as the spec says", stateFile);
            } else {
                LOG.infof("%s was written by machine %s with %d KiB of RAM (firmware %d KiB); loading it into the same",
                        stateFile, saved.machineType(), saved.memoryBytes() / 1024, saved.firmwareBytes() / 1024);
            }
            return saved;
        } catch (IOException e) {
            throw new EngineException(Reason.StateUnusable, "cannot read saved state " + stateFile + ": " + e.getMessage(), e);
        }
    }

    private static QemuCommandLine.Launch launchFiles(VmConfig config) {
        return new QemuCommandLine.Launch(DiskLayers.activeLayers(config), QemuCommandLine.vmGenerationId(config));
    }

    @Override
    public List<DiskChain> snapshotDisks(VmConfig config) throws EngineException {
        try {
            Files.createDirectories(config.stateDir());
        } catch (IOException e) {
            throw new EngineException(Reason.OperationFailed, "cannot create " + config.stateDir() + ": " + e.getMessage(), e);
        }
        images.ensureDisks(config);
        List<DiskChain> chains = new ArrayList<>();
        for (VmConfig.Disk disk : config.disks()) {
            Path top = DiskLayers.activeLayer(config, disk);
            Path overlay = layers.prepareOverlay(config, disk, top, images.virtualSize(top));
            DiskLayers.setActive(config, disk, overlay);
            chains.add(layers.chainFrom(config, disk, top));
        }
        FirmwareFiles.capture(config);
        return chains;
    }

    @Override
    public VmmInstance restoreSnapshot(VmConfig target, SnapshotImage image) throws EngineException {
        if (image.stateFile() != null && !Files.isReadable(image.stateFile())) {
            throw new EngineException(Reason.StateUnusable, "snapshot state " + image.stateFile() + " is missing");
        }
        if (target.kernel() != null) {
            requireFile(target.kernel(), "boot.kernel");
        }
        try {
            Files.createDirectories(target.stateDir());
        } catch (IOException e) {
            throw new EngineException(Reason.OperationFailed, "cannot create " + target.stateDir() + ": " + e.getMessage(), e);
        }
        for (VmConfig.Disk disk : target.disks()) {
            DiskChain chain = image.disk(disk.name());
            if (chain == null) {
                throw new EngineException(Reason.StateUnusable, "the snapshot has no disk '" + disk.name() + "' for " + target.id());
            }
            Path previous = Files.exists(DiskLayers.pointer(target, disk)) || Files.exists(disk.file(target.stateDir()))
                    ? DiskLayers.activeLayer(target, disk) : null;
            for (Path layer : chain.layers()) {
                DiskLayers.linkInto(layer, target.stateDir());
            }
            Path top = target.stateDir().resolve(chain.top().getFileName().toString());
            Path overlay = layers.prepareOverlay(target, disk, top, images.virtualSize(top));
            DiskLayers.setActive(target, disk, overlay);
            if (previous != null && !previous.getFileName().equals(top.getFileName())) {
                // Rollback: the overlay the guest wrote after the snapshot is discarded (layers a snapshot still links stay).
                if (DiskLayers.linkCount(previous) == 1) {
                    DiskLayers.deleteLayers(List.of(previous));
                }
            }
        }
        FirmwareFiles.restore(target, image.uefiVars());
        prepare(target);
        QemuCommandLine.Launch launch = launchFiles(target);
        if (image.stateFile() == null) {
            RestoredMachine.set(target, null);
            return launch(target, line -> line.forCreate(target, launch));
        }
        QemuCommandLine.Launch loading = launch.loading(savedMachine(image.stateFile()));
        QemuInstance instance = launch(target, line -> line.forIncoming(target, false, loading));
        try {
            instance.loadState(image.stateFile());
            RestoredMachine.set(target, loading.savedMachine());
            return instance;
        } catch (EngineException e) {
            instance.destroy();
            throw e;
        }
    }

    @Override
    public List<Path> mergeUnsharedLayers(VmConfig config) throws EngineException {
        List<Path> removed = new ArrayList<>();
        for (VmConfig.Disk disk : config.disks()) {
            DiskLayers.Merge merge = layers.planMerge(config, disk);
            if (merge.needed()) {
                images.rebase(merge.active(), merge.newBackingName());
                DiskLayers.deleteLayers(merge.unshared());
                removed.addAll(merge.unshared());
            }
        }
        return removed;
    }

    private void prepare(VmConfig config) throws EngineException {
        if (config.kernel() != null) { // null: firmware boot
            requireFile(config.kernel(), "boot.kernel");
        }
        if (config.initrd() != null) {
            requireFile(config.initrd(), "boot.initrd");
        }
        try {
            Files.createDirectories(config.stateDir());
            Files.deleteIfExists(config.qmpSocket());
            Files.deleteIfExists(config.pidFile());
        } catch (IOException e) {
            throw new EngineException(Reason.OperationFailed, "cannot prepare state dir " + config.stateDir() + ": " + e.getMessage(), e);
        }
        images.ensureDisks(config);
        FirmwareFiles.prepare(config);
        seeds.write(config);
        if (user != null) {
            user.own(config.stateDir());
        }
    }

    private static void requireFile(Path file, String field) throws EngineException {
        if (!Files.isReadable(file)) {
            throw new EngineException(Reason.MissingFile, "spec." + field + ": " + file
                    + " does not exist on this node; put the file in the node's image directory or fix the path");
        }
    }

    /**
     * Starts QEMU with the command line {@code build} makes for the node's QEMU, and checks that
     * the QEMU that answers is the release that command line was made for. If not (the binary was
     * replaced since it was probed, e.g. by a package upgrade), the guest had the wrong
     * workarounds: it is stopped before it ran, the binary probed again, and started once more.
     */
    private QemuInstance launch(VmConfig config, java.util.function.Function<QemuCommandLine, List<String>> build) throws EngineException {
        Emulator expected = emulator;
        QemuInstance instance = processes.start(config, build.apply(expected.commandLine()));
        QemuVersion running = instance.features().version();
        if (running.equals(expected.features().version())) {
            return instance;
        }
        LOG.warnf("%s is QEMU %s now, not %s as probed; starting %s again with the command line for %s",
                binary, running, expected.features().version(), config.id(), running);
        instance.destroy();
        try {
            emulator = emulatorFor(QemuProbe.reprobe(binary));
        } catch (IllegalStateException e) {
            throw new EngineException(Reason.EmulatorFailed, e.getMessage(), e);
        }
        instance = processes.start(config, build.apply(emulator.commandLine()));
        if (!instance.features().version().equals(emulator.features().version())) {
            instance.destroy();
            throw new EngineException(Reason.EmulatorFailed, binary + " keeps changing (QEMU " + emulator.features().version()
                    + " probed, " + instance.features().version() + " started); try again once its upgrade has finished");
        }
        return instance;
    }
}
