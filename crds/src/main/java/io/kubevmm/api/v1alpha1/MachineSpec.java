package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

import java.util.List;

/** The machine a VM runs on; shared by VirtualMachine and VirtualMachineInstance specs. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "!has(self.disks) || size(self.disks) <= (has(self.profile) && self.profile == 'standard' ? 29 : 24)"
        + " - (has(self.network) && has(self.network.mode) && self.network.mode in ['user', 'overlay'] ? 1 : 0)"
        + " - (has(self.cloudInit) ? 1 : 0)",
        message = "too many disks: microvm attaches at most 24 virtio devices, standard (q35) 30 PCI devices of which the guest agent channel takes one, the NIC and the cloud-init seed counting as one each")
public class MachineSpec extends LenientSpec {
    @Default(SpecDefaults.PROFILE)
    @JsonPropertyDescription("Machine type: microvm (virtio-mmio, no PCI or firmware, fastest start) or standard (q35).")
    private Profile profile;
    @Min(1)
    @Max(64)
    @Default(SpecDefaults.CPU)
    @JsonPropertyDescription("Number of vCPUs.")
    private Integer cpu;
    @Pattern(QuantityPattern.REGEX)
    @Default(SpecDefaults.MEMORY)
    @JsonPropertyDescription("Guest RAM, a quantity such as 256Mi or 2Gi (at least 16Mi).")
    private String memory;
    @JsonPropertyDescription("How the guest boots: directly from a kernel (kernel, initrd, cmdline; both profiles) or, on profile standard, through firmware (bios or uefi) from its disks.")
    private BootSpec boot;
    @Size(max = MachineLimits.MAX_DISKS)
    @JsonPropertyDescription("qcow2 disks attached as virtio-blk, in order (vda, vdb, ...): at most 24 on microvm, 29 on standard (the guest agent channel takes a slot), one less each with a NIC or a cloud-init seed.")
    private List<DiskSpec> disks;
    @JsonPropertyDescription("Guest networking.")
    private NetworkSpec network;
    @JsonPropertyDescription("cloud-init (NoCloud) configuration: user-data, network-config and SSH keys, attached as a read-only seed disk after the VM's own disks.")
    private CloudInitSpec cloudInit;
    @JsonPropertyDescription("When the guest counts as Ready.")
    private ReadinessSpec readiness;
    @Default(SpecDefaults.RESTART_POLICY)
    @JsonPropertyDescription("What happens when the guest powers off or crashes: Always, OnFailure or Never restart it.")
    private RestartPolicy restartPolicy;
    @Min(0)
    @Default(SpecDefaults.TERMINATION_GRACE_PERIOD_SECONDS)
    @JsonPropertyDescription("Seconds a stopping guest gets to power off before its process is ended. With a connected guest agent the stop asks it first (guest-shutdown) and waits half of this, then presses the ACPI power button for the rest; without one (or if the agent refuses) the ACPI power button gets all of it.")
    private Long terminationGracePeriodSeconds;

    public Profile getProfile() { return profile; }

    public void setProfile(Profile profile) { this.profile = profile; }

    public Integer getCpu() { return cpu; }

    public void setCpu(Integer cpu) { this.cpu = cpu; }

    public String getMemory() { return memory; }

    public void setMemory(String memory) { this.memory = memory; }

    public BootSpec getBoot() { return boot; }

    public void setBoot(BootSpec boot) { this.boot = boot; }

    public List<DiskSpec> getDisks() { return disks; }

    public void setDisks(List<DiskSpec> disks) { this.disks = disks; }

    public NetworkSpec getNetwork() { return network; }

    public void setNetwork(NetworkSpec network) { this.network = network; }

    public CloudInitSpec getCloudInit() { return cloudInit; }

    public void setCloudInit(CloudInitSpec cloudInit) { this.cloudInit = cloudInit; }

    public ReadinessSpec getReadiness() { return readiness; }

    public void setReadiness(ReadinessSpec readiness) { this.readiness = readiness; }

    public RestartPolicy getRestartPolicy() { return restartPolicy; }

    public void setRestartPolicy(RestartPolicy restartPolicy) { this.restartPolicy = restartPolicy; }

    public Long getTerminationGracePeriodSeconds() { return terminationGracePeriodSeconds; }

    public void setTerminationGracePeriodSeconds(Long seconds) { this.terminationGracePeriodSeconds = seconds; }
}
