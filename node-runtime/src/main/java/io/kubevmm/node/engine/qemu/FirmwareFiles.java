package io.kubevmm.node.engine.qemu;

import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.engine.EngineException.Reason;
import io.kubevmm.node.engine.VmConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The files a firmware boot needs before QEMU starts. For UEFI: the node's OVMF code flash must
 * be there, and the VM gets its own variables file, copied once from the OVMF template into its
 * state dir and then kept (boot entries and settings the guest writes survive restarts).
 *
 * <p>The variables travel with the VM: a live migration mirrors them to the target's file (see
 * {@code QemuMigration}), a snapshot keeps a copy taken at its instant ({@link #capture}) and a
 * restore or rollback puts that copy back ({@link #restore}).
 */
final class FirmwareFiles {
    private FirmwareFiles() { }

    static void prepare(VmConfig config) throws EngineException {
        VmConfig.Firmware firmware = config.firmware();
        if (firmware == null || firmware.kind() != VmConfig.Firmware.Kind.UEFI) {
            return;
        }
        require(firmware.code(), "kubevmm.node.qemu.uefi-code");
        Path vars = config.uefiVars();
        if (Files.exists(vars)) {
            return;
        }
        require(firmware.varsTemplate(), "kubevmm.node.qemu.uefi-vars-template");
        Path tmp = vars.resolveSibling(vars.getFileName() + ".tmp");
        try {
            Files.copy(firmware.varsTemplate(), tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, vars, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new EngineException(Reason.OperationFailed, "cannot create the UEFI variables of " + config.id() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Copies the VM's variables to {@link VmConfig#capturedUefiVars} (a no-op for a VM without
     * UEFI). Called at a snapshot's instant: with the vCPUs stopped for a full-state snapshot, right
     * after the disks switched for a disk snapshot (crash-consistent, as the disks are).
     */
    static void capture(VmConfig config) throws EngineException {
        if (!config.hasUefiVars() || !Files.exists(config.uefiVars())) {
            return;
        }
        copy(config.uefiVars(), config.capturedUefiVars(), config);
    }

    /**
     * A restore or rollback: the target's variables become the snapshot's. A snapshot without
     * variables (taken before they were kept, or of a VM without UEFI) leaves the target's own.
     */
    static void restore(VmConfig target, Path snapshotVars) throws EngineException {
        if (!target.hasUefiVars() || snapshotVars == null) {
            return;
        }
        copy(snapshotVars, target.uefiVars(), target);
    }

    private static void copy(Path from, Path to, VmConfig config) throws EngineException {
        Path tmp = to.resolveSibling(to.getFileName() + ".tmp");
        try {
            Files.copy(from, tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new EngineException(Reason.OperationFailed, "cannot copy the UEFI variables of " + config.id() + ": " + e.getMessage(), e);
        }
    }

    private static void require(Path file, String setting) throws EngineException {
        if (file == null || !Files.isReadable(file)) {
            throw new EngineException(Reason.MissingFile, "spec.boot.firmware uefi: the node's OVMF file " + file
                    + " is missing; install Debian's ovmf package on the node or set " + setting);
        }
    }
}
