package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** Direct kernel boot: no firmware, the kernel is loaded straight into guest memory. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class BootSpec {
    @Required
    @JsonPropertyDescription("Linux kernel image to boot (required).")
    private FileRef kernel;
    @JsonPropertyDescription("Initial ramdisk loaded with the kernel.")
    private FileRef initrd;
    @Size(max = MachineLimits.MAX_CMDLINE)
    @JsonPropertyDescription("Kernel command line, e.g. \"console=ttyS0 quiet\" (at most 1920 characters: x86 Linux takes 2047).")
    private String cmdline;

    public FileRef getKernel() { return kernel; }

    public void setKernel(FileRef kernel) { this.kernel = kernel; }

    public FileRef getInitrd() { return initrd; }

    public void setInitrd(FileRef initrd) { this.initrd = initrd; }

    public String getCmdline() { return cmdline; }

    public void setCmdline(String cmdline) { this.cmdline = cmdline; }
}
