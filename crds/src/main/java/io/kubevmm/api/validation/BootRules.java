package io.kubevmm.api.validation;

import io.kubevmm.api.v1alpha1.BootSpec;
import io.kubevmm.api.v1alpha1.DiskSpec;
import io.kubevmm.api.v1alpha1.Firmware;
import io.kubevmm.api.v1alpha1.MachineLimits;
import io.kubevmm.api.v1alpha1.MachineSpec;
import io.kubevmm.api.v1alpha1.Profile;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Which ways to boot go together. Valid combinations:
 * <ul>
 *   <li>direct kernel boot ({@code boot.kernel}, optional {@code initrd} and {@code cmdline}) on
 *       either profile, no {@code boot.firmware}, no {@code disks[].bootOrder};</li>
 *   <li>firmware boot ({@code boot.firmware: bios | uefi}) on profile {@code standard} only, with
 *       at least one disk and no kernel, initrd or cmdline (the disk's bootloader brings its own);
 *       {@code disks[].bootOrder} unique numbers saying which disk the firmware tries first.</li>
 * </ul>
 */
public final class BootRules {
    private BootRules() { }

    static void check(MachineSpec spec, List<FieldError> errors) {
        BootSpec boot = spec.getBoot();
        Firmware firmware = boot == null ? null : boot.getFirmware();
        if (firmware == null) {
            kernelBoot(boot, errors);
        } else {
            firmwareBoot(spec, boot, firmware, errors);
        }
        bootOrder(spec.getDisks(), firmware, errors);
    }

    private static void kernelBoot(BootSpec boot, List<FieldError> errors) {
        if (boot == null || boot.getKernel() == null || boot.getKernel().getPath() == null || boot.getKernel().getPath().isBlank()) {
            errors.add(new FieldError("spec.boot.kernel.path", "is required for direct kernel boot (example: vmlinuz, resolved in the"
                    + " node's image directory); or, on profile standard, set boot.firmware (bios or uefi) to boot from a disk"));
        } else {
            PathRules.check("spec.boot.kernel.path", boot.getKernel().getPath(), errors);
        }
        if (boot != null && boot.getInitrd() != null) {
            PathRules.check("spec.boot.initrd.path", boot.getInitrd().getPath(), errors);
        }
        if (boot != null && boot.getCmdline() != null && boot.getCmdline().length() > MachineLimits.MAX_CMDLINE) {
            errors.add(new FieldError("spec.boot.cmdline", "has " + boot.getCmdline().length() + " characters; at most "
                    + MachineLimits.MAX_CMDLINE + " (x86 Linux takes 2047 and the node may append its own)"));
        }
    }

    private static void firmwareBoot(MachineSpec spec, BootSpec boot, Firmware firmware, List<FieldError> errors) {
        if (spec.getProfile() != Profile.standard) {
            errors.add(new FieldError("spec.boot.firmware", firmware + " needs profile standard (q35): microvm has no firmware to boot"
                    + " disks with; set profile: standard, or remove boot.firmware and boot a kernel directly (boot.kernel)"));
        }
        String only = " only applies to direct kernel boot; with boot.firmware the bootloader on the disk brings its own: remove it, or remove boot.firmware";
        if (boot.getKernel() != null) {
            errors.add(new FieldError("spec.boot.kernel", only));
        }
        if (boot.getInitrd() != null) {
            errors.add(new FieldError("spec.boot.initrd", only));
        }
        if (boot.getCmdline() != null) {
            errors.add(new FieldError("spec.boot.cmdline", only));
        }
        if (spec.getDisks() == null || spec.getDisks().stream().noneMatch(d -> d != null && d.getSource() != null)) {
            errors.add(new FieldError("spec.disks", "firmware boot needs a disk to boot from: add a disk whose source is an image with a bootloader"));
        }
    }

    private static void bootOrder(List<DiskSpec> disks, Firmware firmware, List<FieldError> errors) {
        if (disks == null) {
            return;
        }
        Map<Integer, Integer> seen = new HashMap<>();
        for (int i = 0; i < disks.size(); i++) {
            DiskSpec disk = disks.get(i);
            Integer order = disk == null ? null : disk.getBootOrder();
            if (order == null) {
                continue;
            }
            String field = "spec.disks[" + i + "].bootOrder";
            if (firmware == null) {
                errors.add(new FieldError(field, "only applies with boot.firmware (bios or uefi): direct kernel boot reads no disk's"
                        + " boot order; set boot.firmware or remove bootOrder"));
            } else if (order < 1 || order > MachineLimits.MAX_DISKS) {
                errors.add(new FieldError(field, order + " is out of range; use 1 (tried first) to " + MachineLimits.MAX_DISKS));
            } else if (seen.putIfAbsent(order, i) != null) {
                errors.add(new FieldError(field, order + " is also the bootOrder of spec.disks[" + seen.get(order) + "]; give each disk its own"));
            }
        }
    }
}
