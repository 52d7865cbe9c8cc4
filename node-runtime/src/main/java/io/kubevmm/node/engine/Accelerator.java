package io.kubevmm.node.engine;

/** How guest code executes: hardware virtualization, or QEMU's Tiny Code Generator. */
public enum Accelerator {
    KVM, TCG;

    public String apiName() { return name().toLowerCase(); }
}
