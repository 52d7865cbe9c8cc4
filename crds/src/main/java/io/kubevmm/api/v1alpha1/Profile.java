package io.kubevmm.api.v1alpha1;

/** Machine type a guest runs on. */
public enum Profile {
    /** QEMU {@code -M microvm}: virtio-mmio devices, no PCI, no firmware; fastest boot, Linux guests only. */
    microvm,
    /** QEMU {@code -M q35}: PCI machine for general guests. */
    standard
}
