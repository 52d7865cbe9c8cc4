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
        Firmware firmware) {

    public enum Profile { MICROVM, STANDARD }

    public enum NetworkMode { NONE, USER }

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

    public VmConfig {
        disks = disks == null ? List.of() : List.copyOf(disks);
        cmdline = cmdline == null ? "" : cmdline;
    }

    /** Direct kernel boot. */
    public VmConfig(String id, Path stateDir, Profile profile, int cpus, long memoryBytes, Path kernel, Path initrd,
                    String cmdline, List<Disk> disks, NetworkMode network, String macAddress) {
        this(id, stateDir, profile, cpus, memoryBytes, kernel, initrd, cmdline, disks, network, macAddress, null);
    }

    /** The VM's own UEFI variables (boot entries, settings), kept across restarts: {@code uefi-vars.fd}. */
    public Path uefiVars() { return stateDir.resolve("uefi-vars.fd"); }

    public Path qmpSocket() { return stateDir.resolve("qmp.sock"); }

    public Path pidFile() { return stateDir.resolve("qemu.pid"); }

    public Path consoleLog() { return stateDir.resolve("console.log"); }

    /** QEMU's own stdout/stderr: the first place to look when it refuses to start. */
    public Path emulatorLog() { return stateDir.resolve("qemu.log"); }

    /** Full machine state written by a suspend to disk; present only while suspended so. */
    public Path suspendStateFile() { return stateDir.resolve("suspend.state"); }
}
