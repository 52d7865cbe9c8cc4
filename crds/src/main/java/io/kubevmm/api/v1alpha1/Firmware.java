package io.kubevmm.api.v1alpha1;

/** Firmware a {@code standard} (q35) machine boots its disks with. */
public enum Firmware {
    /** SeaBIOS: legacy BIOS boot from the disk's MBR boot code. */
    bios,
    /** OVMF: UEFI boot from the disk's EFI system partition; the VM keeps its own UEFI variables. */
    uefi
}
