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
 * <p>Not yet carried along: a live migration's target and a snapshot restore start from their own
 * (template) copy rather than the source's variables; see docs/images.md.
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

    private static void require(Path file, String setting) throws EngineException {
        if (file == null || !Files.isReadable(file)) {
            throw new EngineException(Reason.MissingFile, "spec.boot.firmware uefi: the node's OVMF file " + file
                    + " is missing; install Debian's ovmf package on the node or set " + setting);
        }
    }
}
