package io.kubevmm.node.engine.qemu;

import io.kubevmm.node.engine.Accelerator;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.engine.VmConfig.Profile;
import io.kubevmm.node.qmp.QemuVersion;

import java.util.ArrayList;
import java.util.List;

/**
 * The one place that turns a {@link VmConfig} into a QEMU command line. Pure: no I/O, so every
 * flag a guest gets is unit-testable.
 */
public final class QemuCommandLine {

    /** Kernel parameters microvm needs under TCG or it hangs calibrating the TSC. */
    static final String MICROVM_TCG_TSC_ARGS = "tsc=reliable tsc_early_khz=2000000";

    /** Guest RAM is padded by this much when it would otherwise be a multiple of 256 KiB. */
    static final long TCG_RAM_PADDING = 8 * 1024;
    private static final long TCG_RAM_GRANULE = 256 * 1024;

    /**
     * seccomp filter every guest runs under. {@code spawn} stays allowed: suspend to disk and restore
     * use {@code migrate exec:cat}, and with {@code spawn=deny} QEMU was killed (SIGSYS) at that
     * command (measured, QEMU 7.2). {@code elevateprivileges=deny} only when QEMU keeps its user:
     * it also forbids the setuid of {@code -runas}/{@code -run-with user=} (QEMU exits at start).
     */
    static final String SANDBOX = "on,obsolete=deny,elevateprivileges=deny,resourcecontrol=deny";
    static final String SANDBOX_WITH_USER = "on,obsolete=deny,resourcecontrol=deny";

    private final String binary;
    private final Accelerator accelerator;
    private final QemuFeatures features;
    private final String runAs;

    public QemuCommandLine(String binary, Accelerator accelerator, QemuVersion version) {
        this(binary, accelerator, QemuFeatures.ofVersion(version), null);
    }

    public QemuCommandLine(String binary, Accelerator accelerator, QemuVersion version, String runAs) {
        this(binary, accelerator, QemuFeatures.ofVersion(version), runAs);
    }

    /**
     * {@code features}: what the QEMU that will run says it is (its version decides the
     * workarounds); {@code runAs}: the unprivileged user QEMU switches to once started, or null to keep ours.
     */
    public QemuCommandLine(String binary, Accelerator accelerator, QemuFeatures features, String runAs) {
        this.binary = binary;
        this.accelerator = accelerator;
        this.features = features;
        this.runAs = runAs == null || runAs.isBlank() ? null : runAs;
    }

    /** The release this command line is built for. */
    public QemuVersion version() {
        return features.version();
    }

    /** QEMU's confinement options: the seccomp sandbox and, when configured, the user it drops to. */
    List<String> confinement() {
        List<String> args = new ArrayList<>(List.of("-sandbox", runAs == null ? SANDBOX : SANDBOX_WITH_USER));
        if (runAs != null) {
            // -runas is deprecated from 9.1 on in favour of -run-with user=.
            args.addAll(features.hasRunWith() ? List.of("-run-with", "user=" + runAs) : List.of("-runas", runAs));
        }
        return args;
    }

    /**
     * Where QEMU loses TCG writes during migration ({@link QemuFeatures#losesTcgWritesDuringMigration}),
     * it does so only for RAM that is a multiple of 256 KiB: an odd size keeps later migrations
     * and snapshots correct. Elsewhere the guest gets exactly what its spec asks.
     */
    boolean needsRamPadding(long memoryBytes) {
        return features.losesTcgWritesDuringMigration(accelerator) && memoryBytes % TCG_RAM_GRANULE == 0;
    }

    public long effectiveMemoryBytes(long memoryBytes) {
        return needsRamPadding(memoryBytes) ? memoryBytes + TCG_RAM_PADDING : memoryBytes;
    }

    public List<String> workarounds(VmConfig config) {
        List<String> applied = new ArrayList<>();
        if (needsRamPadding(config.memoryBytes())) {
            applied.add("guest RAM padded by 8Ki to " + (effectiveMemoryBytes(config.memoryBytes()) / 1024)
                    + "Ki: QEMU " + features.version() + " under TCG corrupts migrated memory when RAM is a multiple of 256Ki (fixed in 9.0)");
        }
        if (config.profile() == Profile.MICROVM && accelerator == Accelerator.TCG
                && !config.cmdline().contains("tsc_early_khz")) {
            // Not a matter of release: measured on 7.2 and 10.0 alike (a loaded host hangs some boots without it).
            applied.add("kernel cmdline += '" + MICROVM_TCG_TSC_ARGS + "': microvm guests hang on TSC calibration under TCG");
        }
        return applied;
    }

    /**
     * The guest RAM of a guest launched with {@code saved}'s machine (null: from the spec), which
     * is the saved stream's: a state loads only into the RAM size that wrote it.
     */
    public long effectiveMemoryBytes(VmConfig config, SavedMachine saved) {
        return saved != null ? saved.memoryBytes() : effectiveMemoryBytes(config.memoryBytes());
    }

    /**
     * The workarounds of a guest launched with {@code saved}'s machine (null: from the spec): the
     * saved machine's RAM and type, where they differ from what this release gives the spec, stay
     * until the guest is booted afresh; this release's own RAM padding does not apply to it.
     */
    public List<String> workarounds(VmConfig config, SavedMachine saved) {
        if (saved == null) {
            return workarounds(config);
        }
        List<String> applied = new ArrayList<>();
        if (saved.memoryBytes() != config.memoryBytes()) {
            applied.add("guest RAM " + saved.memoryBytes() / 1024 + "Ki instead of the spec's " + config.memoryBytes() / 1024
                    + "Ki: restored from state saved by machine " + saved.machineType()
                    + ", which had it; the spec's applies from the next boot");
        }
        String own = config.profile() == Profile.MICROVM ? "microvm" : "pc-q35-" + features.version().major() + "." + features.version().minor();
        if (!saved.machineType().equals(own)) {
            applied.add("machine " + saved.machineType() + " instead of " + own
                    + ": restored from state saved by that machine; this release's applies from the next boot");
        }
        if (config.profile() == Profile.MICROVM && saved.firmwareBytes() == SavedMachine.QBOOT_BYTES) {
            applied.add("firmware qboot: restored from state saved by a guest booted from it; this release's applies from the next boot");
        }
        for (String w : workarounds(config)) {
            if (!w.startsWith("guest RAM padded")) {
                applied.add(w);
            }
        }
        return applied;
    }

    public String kernelCmdline(VmConfig config) {
        String cmdline = config.cmdline().strip();
        if (config.profile() == Profile.MICROVM && accelerator == Accelerator.TCG
                && !cmdline.contains("tsc_early_khz")) {
            cmdline = (cmdline + " " + MICROVM_TCG_TSC_ARGS).strip();
        }
        return cmdline;
    }

    /**
     * What a launch needs beyond the spec: which qcow2 layer of each disk is active (it changes
     * with every snapshot) and the VM generation ID. Defaults: {@link VmConfig.Disk#file} and no
     * vmgenid device.
     */
    public record Launch(java.util.Map<String, java.nio.file.Path> activeLayers, String vmGenerationId, SavedMachine savedMachine) {
        static final Launch DEFAULTS = new Launch(java.util.Map.of(), null);

        public Launch(java.util.Map<String, java.nio.file.Path> activeLayers, String vmGenerationId) {
            this(activeLayers, vmGenerationId, null);
        }

        /**
         * The same launch for loading a state stream written by {@code saved}: its machine type and
         * RAM size win over what this release would give the spec (QEMU loads a stream into nothing else).
         */
        public Launch loading(SavedMachine saved) {
            return new Launch(activeLayers, vmGenerationId, saved);
        }
    }

    /**
     * The VM generation ID: derived from the VM's identity, so it stays the same across restarts
     * and live migration and differs for a clone (new id and MAC).
     */
    public static String vmGenerationId(VmConfig config) {
        return java.util.UUID.nameUUIDFromBytes((config.id() + "/" + config.macAddress())
                .getBytes(java.nio.charset.StandardCharsets.UTF_8)).toString();
    }

    /** Command line for a new guest, vCPUs halted until {@code cont}. */
    public List<String> forCreate(VmConfig config) {
        return build(config, false, false, Launch.DEFAULTS);
    }

    public List<String> forCreate(VmConfig config, Launch launch) {
        return build(config, false, false, launch);
    }

    public List<String> forIncoming(VmConfig config, boolean autostart, Launch launch) {
        return build(config, true, autostart, launch);
    }

    /**
     * Command line for a guest whose state arrives later through {@code migrate-incoming}.
     * {@code autostart}: run it as soon as the state is in (live migration: every millisecond
     * counts as downtime), rather than wait for {@code cont} (restore from disk).
     */
    public List<String> forIncoming(VmConfig config, boolean autostart) {
        return build(config, true, autostart, Launch.DEFAULTS);
    }

    /**
     * Firmware boot on q35: BIOS is QEMU's own SeaBIOS (its q35 default, nothing to add); UEFI is
     * OVMF's code flash read-only plus the VM's own variables flash ({@link VmConfig#uefiVars}),
     * both raw block nodes QEMU opens itself. The paths are the node's settings and the VM's
     * state dir, never a user's string.
     */
    static List<String> firmware(VmConfig config) {
        VmConfig.Firmware firmware = config.firmware();
        if (firmware.kind() == VmConfig.Firmware.Kind.BIOS) {
            return List.of();
        }
        return List.of(
                "-blockdev", "driver=file,node-name=uefi-code-file,read-only=on,filename=" + QemuOptions.value(firmware.code()),
                "-blockdev", "driver=raw,node-name=uefi-code,read-only=on,file=uefi-code-file",
                "-blockdev", "driver=file,node-name=uefi-vars-file,filename=" + QemuOptions.value(config.uefiVars()),
                "-blockdev", "driver=raw,node-name=uefi-vars,file=uefi-vars-file");
    }

    /** The port name qemu-guest-agent looks for (udev starts the agent when it appears). */
    public static final String GUEST_AGENT_PORT = "org.qemu.guest_agent.0";
    /** The port's device id ({@code VSERPORT_CHANGE} names it) and its chardev's ({@code query-chardev}). */
    static final String GUEST_AGENT_PORT_ID = "qga-port";
    static final String GUEST_AGENT_CHARDEV = "qga0";

    /**
     * A virtio-serial controller with the guest agent's port on a unix socket in the state dir.
     * Last on the command line, so every other PCI device keeps the slot it had before the channel
     * existed: a state stream saved without it still loads (measured, QEMU 10.0: the guest runs on
     * and sees the port at its next boot), and the agent connects from then on.
     */
    static List<String> guestAgentChannel(VmConfig config) {
        return List.of(
                "-chardev", "socket,id=" + GUEST_AGENT_CHARDEV + ",path=" + QemuOptions.value(config.guestAgentSocket()) + ",server=on,wait=off",
                "-device", "virtio-serial-pci,id=agent-serial",
                "-device", "virtserialport,bus=agent-serial.0,chardev=" + GUEST_AGENT_CHARDEV + ",id=" + GUEST_AGENT_PORT_ID + ",name=" + GUEST_AGENT_PORT);
    }

    private List<String> build(VmConfig config, boolean incoming, boolean autostart, Launch launch) {
        boolean microvm = config.profile() == Profile.MICROVM;
        SavedMachine saved = launch.savedMachine();
        String machine = saved != null ? saved.machineType() : microvm ? "microvm" : "q35";
        long memory = saved != null ? saved.memoryBytes() : effectiveMemoryBytes(config.memoryBytes());
        List<String> args = new ArrayList<>(List.of(
                binary,
                "-name", "guest=" + QemuOptions.value(config.id()) + ",debug-threads=on",
                "-machine", QemuOptions.id("machine type", machine) + ",accel=" + accelerator.apiName()
                        + (config.firmware() != null && config.firmware().kind() == VmConfig.Firmware.Kind.UEFI
                        ? ",pflash0=uefi-code,pflash1=uefi-vars" : ""),
                "-nodefaults", "-no-user-config", "-display", "none",
                // Guest power-off and panic keep the process so we can report and reset it.
                "-no-shutdown", "-action", "panic=shutdown",
                "-smp", Integer.toString(config.cpus()),
                "-m", (memory / 1024) + "K"));
        args.addAll(confinement());
        if (saved != null && microvm && saved.firmwareBytes() == SavedMachine.QBOOT_BYTES) {
            args.addAll(List.of("-bios", "qboot.rom")); // saved by a guest booted from qboot (QEMU 7.2's microvm default)
        }
        if (!autostart) {
            args.add("-S"); // vCPUs stay halted until we say cont: this is the lifecycle's Stopped state.
        }
        if (accelerator == Accelerator.KVM) {
            args.addAll(List.of("-cpu", "host"));
        }
        if (config.firmware() == null) {
            args.addAll(List.of("-kernel", config.kernel().toString()));
            if (config.initrd() != null) {
                args.addAll(List.of("-initrd", config.initrd().toString()));
            }
            args.addAll(List.of("-append", kernelCmdline(config)));
        } else {
            args.addAll(firmware(config));
        }
        args.addAll(List.of(
                "-chardev", "file,id=serial0,append=on,path=" + QemuOptions.value(config.consoleLog()),
                "-serial", "chardev:serial0",
                "-device", "pvpanic",
                "-qmp", "unix:" + QemuOptions.value(config.qmpSocket()) + ",server=on,wait=off",
                "-pidfile", config.pidFile().toString()));
        for (VmConfig.Disk disk : config.disks()) {
            String id = QemuOptions.id("disk name", disk.name());
            String node = "disk-" + id;
            args.addAll(List.of(
                    "-blockdev", "driver=file,node-name=" + node + "-file,filename="
                            + QemuOptions.value(launch.activeLayers().getOrDefault(disk.name(), disk.file(config.stateDir()))),
                    "-blockdev", "driver=qcow2,node-name=" + node + ",file=" + node + "-file",
                    "-device", (microvm ? "virtio-blk-device" : "virtio-blk-pci") + ",drive=" + node + ",id=" + id
                            + (disk.bootOrder() == null || config.firmware() == null ? "" : ",bootindex=" + disk.bootOrder())));
        }
        if (config.cloudInit() != null) {
            // After the VM's own disks, so they keep their names (vda, vdb, ...); read-only, never
            // mirrored: every node writes the same seed from the spec. The id has a '_', which no
            // disk name (a DNS label) has.
            args.addAll(List.of(
                    "-blockdev", "driver=file,node-name=seed_cidata-file,read-only=on,filename=" + QemuOptions.value(config.cloudInitSeed()),
                    "-blockdev", "driver=raw,node-name=seed_cidata,read-only=on,file=seed_cidata-file",
                    "-device", (microvm ? "virtio-blk-device" : "virtio-blk-pci") + ",drive=seed_cidata,id=seed_cidata"));
        }
        if (launch.vmGenerationId() != null) {
            // Same device on every start, only the GUID changes: a restored state stream then loads
            // and QEMU tells the guest its generation changed (clone, rollback).
            args.addAll(List.of("-device", "vmgenid,guid=" + launch.vmGenerationId()));
        }
        if (config.network() == VmConfig.NetworkMode.USER) {
            args.addAll(List.of(
                    "-netdev", "user,id=net0",
                    "-device", (microvm ? "virtio-net-device" : "virtio-net-pci") + ",netdev=net0,mac=" + QemuOptions.value(config.macAddress())));
        } else if (config.network() == VmConfig.NetworkMode.OVERLAY) {
            // The tap exists before QEMU starts (the node's overlay data plane puts it on the
            // segment's bridge); QEMU only opens it and runs no scripts. Same device and id as the
            // user NIC, so the guest sees the same interface whichever mode it has.
            args.addAll(List.of(
                    "-netdev", "tap,id=net0,ifname=" + QemuOptions.id("tap device", config.tapDevice()) + ",script=no,downscript=no",
                    "-device", (microvm ? "virtio-net-device" : "virtio-net-pci") + ",netdev=net0,mac=" + QemuOptions.value(config.macAddress())));
        }
        if (config.hasGuestAgentChannel()) {
            args.addAll(guestAgentChannel(config));
        }
        if (incoming) {
            args.addAll(List.of("-incoming", "defer"));
        }
        return args;
    }
}
