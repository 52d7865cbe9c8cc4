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
import io.kubevmm.node.qmp.QmpClient;
import io.kubevmm.node.qmp.QmpException;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Runs guests as QEMU processes, one per VM, each detached from the node runtime's session. */
public final class QemuEngine implements VmmEngine {
    private static final Logger LOG = Logger.getLogger(QemuEngine.class);
    private static final Duration QMP_READY_TIMEOUT = Duration.ofSeconds(30);
    private static final Pattern VERSION = Pattern.compile("version (\\d+)\\.(\\d+)\\.?(\\d*)");

    private final String binary;
    private final Accelerator accelerator;
    private final QemuVersion version;
    private final QemuCommandLine commandLine;
    private final QemuImages images;
    private final DiskLayers layers;
    private final QemuUser user;

    public QemuEngine(String binary, String qemuImg, AcceleratorChoice choice) {
        this(binary, qemuImg, choice, null);
    }

    /** {@code runAs}: unprivileged user QEMU drops to after start (see {@link QemuUser}), or null. */
    public QemuEngine(String binary, String qemuImg, AcceleratorChoice choice, String runAs) {
        this.binary = binary;
        this.version = probeVersion(binary);
        this.accelerator = choice.resolve(binary);
        this.user = runAs == null || runAs.isBlank() ? null : new QemuUser(runAs);
        this.commandLine = new QemuCommandLine(binary, accelerator, version, user == null ? null : user.name());
        this.images = new QemuImages(qemuImg);
        this.layers = new DiskLayers(images);
        LOG.infof("QEMU %s with %s; %s", version, accelerator, confinement());
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

    /** What the operator configured: use KVM when it works ({@code auto}), or force one. */
    public enum AcceleratorChoice {
        AUTO, KVM, TCG;

        Accelerator resolve(String binary) {
            return switch (this) {
                case KVM -> Accelerator.KVM;
                case TCG -> Accelerator.TCG;
                case AUTO -> kvmUsable(binary) ? Accelerator.KVM : Accelerator.TCG;
            };
        }
    }

    @Override
    public Accelerator accelerator() { return accelerator; }

    @Override
    public String version() { return version.toString(); }

    @Override
    public long effectiveMemoryBytes(VmConfig config) {
        return commandLine.effectiveMemoryBytes(config.memoryBytes());
    }

    @Override
    public List<String> workarounds(VmConfig config) {
        return commandLine.workarounds(config);
    }

    @Override
    public VmmInstance create(VmConfig config) throws EngineException {
        prepare(config);
        return launch(config, commandLine.forCreate(config, launchFiles(config)));
    }

    @Override
    public VmmInstance restore(VmConfig config) throws EngineException {
        if (!Files.isReadable(config.suspendStateFile())) {
            throw new EngineException(Reason.StateUnusable, "saved state " + config.suspendStateFile() + " is missing");
        }
        prepare(config);
        QemuInstance instance = launch(config, commandLine.forIncoming(config, false, launchFiles(config)));
        try {
            instance.loadState();
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
        return launch(config, commandLine.forIncoming(config, true, launchFiles(config)));
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
        return chains;
    }

    @Override
    public VmmInstance restoreSnapshot(VmConfig target, SnapshotImage image) throws EngineException {
        if (image.stateFile() != null && !Files.isReadable(image.stateFile())) {
            throw new EngineException(Reason.StateUnusable, "snapshot state " + image.stateFile() + " is missing");
        }
        requireFile(target.kernel(), "boot.kernel");
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
        prepare(target);
        QemuCommandLine.Launch launch = launchFiles(target);
        if (image.stateFile() == null) {
            return launch(target, commandLine.forCreate(target, launch));
        }
        QemuInstance instance = launch(target, commandLine.forIncoming(target, false, launch));
        try {
            instance.loadState(image.stateFile());
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

    @Override
    public Optional<VmmInstance> adopt(VmConfig config) throws EmulatorUnreachableException {
        Optional<ProcessHandle> process = readPid(config.pidFile())
                .flatMap(ProcessHandle::of)
                .filter(ProcessHandle::isAlive)
                .filter(p -> belongsTo(p, config));
        if (process.isEmpty()) {
            return Optional.empty();
        }
        ProcessHandle handle = process.get();
        try {
            QmpClient qmp = QmpClient.connect(config.qmpSocket(), Duration.ofSeconds(5));
            // Not our child: no exit code, only the fact that it ended.
            return Optional.of(new QemuInstance(config, handle, qmp, layers, action -> handle.onExit().thenRun(() -> action.accept(-1))));
        } catch (QmpException e) {
            // No greeting is no proof of a dead guest (the monitor may be busy or held by another
            // client): the process may hold the guest's only memory, so it stays.
            throw new EmulatorUnreachableException(handle, "QEMU " + handle.pid() + " of " + config.id()
                    + " is alive but its QMP monitor does not answer (" + e.getMessage() + ")", e);
        }
    }

    private void prepare(VmConfig config) throws EngineException {
        requireFile(config.kernel(), "boot.kernel");
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

    private QemuInstance launch(VmConfig config, List<String> args) throws EngineException {
        List<String> cmd = new ArrayList<>();
        // A new session: a signal to the node runtime's terminal or process group must not reach guests.
        cmd.add("setsid");
        cmd.addAll(args);
        Process process;
        try {
            Files.writeString(config.emulatorLog(), "--- " + java.time.Instant.now() + " " + String.join(" ", args) + "\n",
                    StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            process = new ProcessBuilder(cmd)
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    // Files, not pipes: QEMU must outlive the node runtime without dying of SIGPIPE.
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(config.emulatorLog().toFile()))
                    .redirectErrorStream(true)
                    .start();
        } catch (IOException e) {
            throw new EngineException(Reason.EmulatorFailed, "cannot start " + binary + ": " + e.getMessage(), e);
        }
        QmpClient qmp = awaitQmp(config, process);
        return new QemuInstance(config, process.toHandle(), qmp, layers,
                action -> process.onExit().thenAccept(p -> action.accept(p.exitValue())));
    }

    private QmpClient awaitQmp(VmConfig config, Process process) throws EngineException {
        long deadline = System.nanoTime() + QMP_READY_TIMEOUT.toNanos();
        QmpException last = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new EngineException(Reason.EmulatorFailed, "QEMU exited at start (exit code " + process.exitValue()
                        + "): " + logTail(config.emulatorLog()));
            }
            if (Files.exists(config.qmpSocket())) {
                try {
                    return QmpClient.connect(config.qmpSocket(), Duration.ofSeconds(2));
                } catch (QmpException e) {
                    last = e;
                }
            }
            try {
                process.waitFor(10, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        process.destroyForcibly();
        throw new EngineException(Reason.EmulatorFailed, "QEMU did not open its QMP socket within " + QMP_READY_TIMEOUT
                + (last == null ? "" : ": " + last.getMessage()), last);
    }

    /** Guards re-adoption against a recycled pid: the process must be QEMU serving this VM's socket. */
    private static boolean belongsTo(ProcessHandle process, VmConfig config) {
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(process.pid()), "cmdline"));
            return new String(raw, StandardCharsets.UTF_8).contains(config.qmpSocket().toString());
        } catch (IOException e) {
            return false;
        }
    }

    private static Optional<Long> readPid(Path pidFile) {
        try {
            return Optional.of(Long.parseLong(Files.readString(pidFile).strip()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** The last lines QEMU printed, joined into one line for a condition message. */
    static String logTail(Path log) {
        try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "r")) {
            long length = file.length();
            long from = Math.max(0, length - 2048);
            byte[] buf = new byte[(int) (length - from)];
            file.seek(from);
            file.readFully(buf);
            String[] lines = new String(buf, StandardCharsets.UTF_8).split("\n");
            List<String> tail = new ArrayList<>();
            for (int i = lines.length - 1; i >= 0 && tail.size() < 3; i--) {
                String line = lines[i].strip();
                if (line.startsWith("--- ")) {
                    break; // our own launch marker: nothing older belongs to this run
                }
                if (!line.isEmpty()) {
                    tail.addFirst(line);
                }
            }
            return String.join(" / ", tail);
        } catch (IOException e) {
            return "";
        }
    }

    static QemuVersion probeVersion(String binary) {
        String out = runQuietly(List.of(binary, "--version"));
        Matcher m = VERSION.matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("cannot tell the version of " + binary + " (is qemu-system-x86 installed?): " + out);
        }
        return new QemuVersion(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                m.group(3).isEmpty() ? 0 : Integer.parseInt(m.group(3)));
    }

    /**
     * KVM counts as usable only if a vCPU configured like our guests' ({@code -cpu host}) really
     * executes code: some hosts (nested virtualization) open /dev/kvm and create VMs fine, then
     * fail on the first vCPU run. The probe is a 64 KiB firmware whose reset vector writes 'K'
     * to the serial port and halts. A /dev/kvm served by PVM (the kvm_pvm module: virtualization
     * without hardware support, inside a cloud VM) passes that probe yet runs only kernels built as
     * PVM guests; an ordinary guest kernel stops early in boot, so PVM counts as unusable.
     */
    static boolean kvmUsable(String binary) {
        Path kvm = Path.of("/dev/kvm");
        if (!Files.isReadable(kvm) || !Files.isWritable(kvm)) {
            return false;
        }
        if (Files.isDirectory(Path.of("/sys/module/kvm_pvm"))) {
            LOG.info("/dev/kvm is provided by PVM (module kvm_pvm), which boots only PVM guest kernels; using TCG");
            return false;
        }
        Path dir = null;
        Process qemu = null;
        try {
            dir = Files.createTempDirectory("kubevmm-kvm-probe");
            byte[] firmware = new byte[64 * 1024];
            byte[] resetVector = {(byte) 0xBA, (byte) 0xF8, 0x03, (byte) 0xB0, 'K', (byte) 0xEE, (byte) 0xFA, (byte) 0xF4};
            System.arraycopy(resetVector, 0, firmware, 0xFFF0, resetVector.length); // mov dx,3f8; mov al,'K'; out; cli; hlt
            Path bios = Files.write(dir.resolve("probe.bin"), firmware);
            Path serial = dir.resolve("serial.log");
            qemu = new ProcessBuilder(binary, "-machine", "microvm,accel=kvm", "-cpu", "host", "-m", "16",
                    "-nodefaults", "-no-user-config", "-display", "none", "-bios", bios.toString(),
                    "-serial", "file:" + serial).redirectErrorStream(true).redirectOutput(dir.resolve("qemu.log").toFile()).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (System.nanoTime() < deadline && qemu.isAlive()) {
                if (Files.exists(serial) && Files.size(serial) > 0) {
                    return Files.readString(serial).contains("K");
                }
                qemu.waitFor(10, TimeUnit.MILLISECONDS);
            }
            LOG.infof("KVM is present but cannot run a vCPU here (%s); using TCG",
                    Files.readString(dir.resolve("qemu.log")).strip().lines().findFirst().orElse("no output"));
            return false;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            if (qemu != null) {
                qemu.destroyForcibly();
            }
            if (dir != null) {
                try (var files = Files.list(dir)) {
                    for (Path f : files.toList()) {
                        Files.deleteIfExists(f);
                    }
                    Files.deleteIfExists(dir);
                } catch (IOException ignored) {
                    // temp dir; harmless if left
                }
            }
        }
    }

    private static String runQuietly(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
            return p.exitValue() == 0 ? out : "failed: " + out;
        } catch (IOException | InterruptedException | IllegalThreadStateException e) {
            return "failed: " + e.getMessage();
        }
    }
}
