package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;

/**
 * How the guest boots: direct kernel boot (no firmware, the kernel is loaded straight into guest
 * memory; both profiles), or firmware boot ({@code standard} only), where SeaBIOS or OVMF starts
 * the bootloader on the VM's disks.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class BootSpec {
    @JsonPropertyDescription("Firmware boot on profile standard: bios (SeaBIOS) or uefi (OVMF, with per-VM UEFI variables) starts the disks' own bootloader. Leave it out for direct kernel boot.")
    private Firmware firmware;
    @JsonPropertyDescription("Linux kernel image to boot directly (required unless firmware is set).")
    private FileRef kernel;
    @JsonPropertyDescription("Initial ramdisk loaded with the kernel.")
    private FileRef initrd;
    @Size(max = MachineLimits.MAX_CMDLINE)
    @JsonPropertyDescription("Kernel command line, e.g. \"console=ttyS0 quiet\" (at most 1920 characters: x86 Linux takes 2047).")
    private String cmdline;

    public Firmware getFirmware() { return firmware; }

    public void setFirmware(Firmware firmware) { this.firmware = firmware; }

    public FileRef getKernel() { return kernel; }

    public void setKernel(FileRef kernel) { this.kernel = kernel; }

    public FileRef getInitrd() { return initrd; }

    public void setInitrd(FileRef initrd) { this.initrd = initrd; }

    public String getCmdline() { return cmdline; }

    public void setCmdline(String cmdline) { this.cmdline = cmdline; }
}
