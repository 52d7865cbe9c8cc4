package io.kubevmm.node.engine;

import java.nio.file.Path;
import java.util.List;

/**
 * Everything an engine needs to run one guest, resolved to concrete files and numbers. Built
 * from a VirtualMachineInstance by the controller; engines never see Kubernetes types.
 *
 * @param id          stable identity of the VM on this node ({@code <namespace>_<name>})
 * @param stateDir    the VM's own directory: QMP socket, pidfile, console log, disks, saved state
 * @param macAddress  guest NIC address, stable for the VM's lifetime (derived from its uid)
 * @param firmware    firmware boot from the disks, or null for direct kernel boot ({@code kernel} set)
 * @param cloudInit   the NoCloud seed the guest gets as a read-only disk after its own, or null for none
 * @param overlay     network mode OVERLAY: the segment and the guest's address on it (the operator's
 *                    allocation; {@code macAddress} is then the overlay's MAC), else null
 */
public record VmConfig(
        String id,
        Path stateDir,
        Profile profile,
        int cpus,
        long memoryBytes,
        Path kernel,
        Path initrd,
        String cmdline,
        List<Disk> disks,
        NetworkMode network,
        String macAddress,
        Firmware firmware,
        CloudInit cloudInit,
        Overlay overlay) {

    public enum Profile { MICROVM, STANDARD }

    /**
     * NONE: no NIC; USER: QEMU's user-mode NAT (outbound only); OVERLAY: a tap on the node's bridge
     * of the VM's cluster network ({@link #overlay}), reachable from every node.
     */
    public enum NetworkMode { NONE, USER, OVERLAY }

    /**
     * The guest's place on a cluster network (a VXLAN segment): {@code vni} and {@code cidr} name
     * the segment, {@code ipAddress} and {@code macAddress} are the guest's for its whole life (the
     * node's DHCP server hands out that address to that MAC).
     */
    public record Overlay(String networkName, int vni, String cidr, String ipAddress, String macAddress) { }

    /**
     * A qcow2 disk in the VM's state dir: empty with {@code sizeBytes}, or an overlay on
     * {@code baseImage} (sizeBytes 0 keeps the base image's size). {@code bootOrder}: the
     * firmware's boot priority (1 first), or null.
     */
    public record Disk(String name, long sizeBytes, Path baseImage, Integer bootOrder) {
        public Disk(String name, long sizeBytes, Path baseImage) {
            this(name, sizeBytes, baseImage, null);
        }

        public Path file(Path stateDir) {
            return stateDir.resolve("disk-" + name + ".qcow2");
        }
    }

    /**
     * Firmware boot (profile STANDARD only). {@code code}: the firmware image (read-only; for UEFI
     * the OVMF code flash, for BIOS null: QEMU's own SeaBIOS); {@code varsTemplate}: the OVMF
     * variables template a VM's own variables file starts as (UEFI only).
     */
    public record Firmware(Kind kind, Path code, Path varsTemplate) {
        public enum Kind { BIOS, UEFI }
    }

    /**
     * What the guest's NoCloud seed holds. {@code instanceId} changes only for a new VM (a clone),
     * so cloud-init's once-per-instance steps run once; {@code userData} is read when the seed is
     * written (it may come from a Secret, so it is never part of this record's text).
     */
    public record CloudInit(String instanceId, String hostname, List<String> sshAuthorizedKeys, String networkData,
                            UserData userData) {
        public CloudInit {
            sshAuthorizedKeys = sshAuthorizedKeys == null ? List.of() : List.copyOf(sshAuthorizedKeys);
        }

        /** The user-data document, read when the seed is written. */
        @FunctionalInterface
        public interface UserData {
            byte[] read() throws EngineException;
        }

        @Override
        public String toString() { // user-data and network-config may hold secrets: never in logs
            return "CloudInit[instanceId=" + instanceId + ", hostname=" + hostname + ", sshAuthorizedKeys="
                    + sshAuthorizedKeys.size() + ", networkData=" + (networkData == null ? "none" : "given") + "]";
        }
    }

    public VmConfig {
        disks = disks == null ? List.of() : List.copyOf(disks);
        cmdline = cmdline == null ? "" : cmdline;
        if ((network == NetworkMode.OVERLAY) != (overlay != null)) {
            throw new IllegalArgumentException("network mode OVERLAY and an overlay attachment go together (mode "
                    + network + ", overlay " + overlay + ")");
        }
    }

    /** No overlay network. */
    public VmConfig(String id, Path stateDir, Profile profile, int cpus, long memoryBytes, Path kernel, Path initrd,
                    String cmdline, List<Disk> disks, NetworkMode network, String macAddress, Firmware firmware,
                    CloudInit cloudInit) {
        this(id, stateDir, profile, cpus, memoryBytes, kernel, initrd, cmdline, disks, network, macAddress, firmware,
                cloudInit, null);
    }

    /** The same VM on the cluster network {@code overlay}: a NIC on its segment with its MAC. */
    public VmConfig onOverlay(Overlay overlay) {
        return new VmConfig(id, stateDir, profile, cpus, memoryBytes, kernel, initrd, cmdline, disks, NetworkMode.OVERLAY,
                overlay.macAddress(), firmware, cloudInit, overlay);
    }

    /**
     * The host's tap device of the guest's overlay NIC: {@code kvtap} and 10 hex digits of a hash
     * of the VM's id, so it fits the kernel's 15 characters and holds nothing a user typed.
     */
    public String tapDevice() {
        byte[] h = io.kubevmm.node.files.Sha256.of(id.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return "kvtap" + java.util.HexFormat.of().formatHex(h, 0, 5);
    }

    /** Direct kernel boot. */
    public VmConfig(String id, Path stateDir, Profile profile, int cpus, long memoryBytes, Path kernel, Path initrd,
                    String cmdline, List<Disk> disks, NetworkMode network, String macAddress) {
        this(id, stateDir, profile, cpus, memoryBytes, kernel, initrd, cmdline, disks, network, macAddress, null, null);
    }

    /** No cloud-init seed. */
    public VmConfig(String id, Path stateDir, Profile profile, int cpus, long memoryBytes, Path kernel, Path initrd,
                    String cmdline, List<Disk> disks, NetworkMode network, String macAddress, Firmware firmware) {
        this(id, stateDir, profile, cpus, memoryBytes, kernel, initrd, cmdline, disks, network, macAddress, firmware, null);
    }

    /** The NoCloud seed disk (label {@code cidata}), written before each launch when {@link #cloudInit} is set. */
    public Path cloudInitSeed() { return stateDir.resolve("cidata.img"); }

    /** Whether the VM boots UEFI firmware, and so has a variables file of its own ({@link #uefiVars}). */
    public boolean hasUefiVars() {
        return firmware != null && firmware.kind() == Firmware.Kind.UEFI;
    }

    /**
     * Whether the VM has block state of its own a live migration copies to the target before the
     * memory: its disks, its UEFI variables.
     */
    public boolean hasBlockState() {
        return !disks.isEmpty() || hasUefiVars();
    }

    /** The VM's own UEFI variables (boot entries, settings), kept across restarts: {@code uefi-vars.fd}. */
    public Path uefiVars() { return stateDir.resolve("uefi-vars.fd"); }

    /**
     * The UEFI variables as of a snapshot's instant: an engine's disk or full-state snapshot of a
     * UEFI VM leaves them here, and the snapshot store takes the file into the snapshot.
     */
    public Path capturedUefiVars() { return stateDir.resolve("uefi-vars.captured.fd"); }

    public Path qmpSocket() { return stateDir.resolve("qmp.sock"); }

    /**
     * Whether the guest gets a virtio-serial channel to qemu-guest-agent ({@link #guestAgentSocket}):
     * profile standard only. microvm guests are the minimal kind (our test initramfs, no agent),
     * and a virtio-mmio device more would change which transport each existing device sits on,
     * so states they saved before would no longer load.
     */
    public boolean hasGuestAgentChannel() { return profile == Profile.STANDARD; }

    /** The host end of the guest agent's channel: a unix socket QEMU listens on, one client at a time. */
    public Path guestAgentSocket() { return stateDir.resolve("qga.sock"); }

    public Path pidFile() { return stateDir.resolve("qemu.pid"); }

    public Path consoleLog() { return stateDir.resolve("console.log"); }

    /** QEMU's own stdout/stderr: the first place to look when it refuses to start. */
    public Path emulatorLog() { return stateDir.resolve("qemu.log"); }

    /** Full machine state written by a suspend to disk; present only while suspended so. */
    public Path suspendStateFile() { return stateDir.resolve("suspend.state"); }
}
