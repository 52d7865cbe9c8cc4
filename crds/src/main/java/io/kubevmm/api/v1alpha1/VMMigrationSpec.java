package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;

/** A request to live-migrate one VM to another node. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VMMigrationSpec extends LenientSpec {
    public enum Strategy { PreCopy, PostCopy, Hybrid, Auto }

    @Required
    @JsonPropertyDescription("Name of the VirtualMachine to move (same namespace).")
    private String vmName;
    @JsonPropertyDescription("Node to move to; unset lets the scheduler choose.")
    private String targetNode;
    @Default(SpecDefaults.MIGRATION_STRATEGY)
    @JsonPropertyDescription("PreCopy, PostCopy (switch after the first pass), Hybrid (pre-copy until progress stalls, then post-copy) or Auto (chosen from measured dirty and transfer rates).")
    private Strategy strategy;
    @Min(1)
    @Default(SpecDefaults.MAX_DOWNTIME_MILLIS)
    @JsonPropertyDescription("Longest pause of the guest allowed at switchover, in milliseconds.")
    private Long maxDowntimeMillis;
    @Min(0)
    @Default(SpecDefaults.BANDWIDTH_MIBPS)
    @JsonPropertyDescription("Bandwidth cap in MiB/s; 0 means no cap.")
    private Long bandwidthMiBps;
    @Min(1)
    @JsonPropertyDescription("Abort (the VM keeps running on the source) if still in pre-copy after this many seconds; unset: the operator's default scaled by the VM's memory (status.completionTimeoutSeconds says which).")
    private Long completionTimeoutSeconds;
    @Default(SpecDefaults.AUTO_CONVERGE)
    @JsonPropertyDescription("Throttle the guest's vCPUs when it dirties memory faster than it can be copied.")
    private Boolean autoConverge;
    @JsonPropertyDescription("Set to true to cancel; the VM keeps running on the source.")
    private Boolean cancel;
    @Min(0)
    @io.fabric8.generator.annotation.Max(16)
    @JsonPropertyDescription("Memory pages go over this many parallel connections besides the main stream (QEMU multifd), each authenticated through the tunnel like it; both nodes' QEMU must list multifd in VMNode status.qemuCapabilities. Needs strategy PreCopy (QEMU 10.0 does not combine multifd with post-copy). 0 or unset: one stream.")
    private Integer multifdChannels;

    public String getVmName() { return vmName; }
    public void setVmName(String vmName) { this.vmName = vmName; }
    public String getTargetNode() { return targetNode; }
    public void setTargetNode(String targetNode) { this.targetNode = targetNode; }
    public Strategy getStrategy() { return strategy; }
    public void setStrategy(Strategy strategy) { this.strategy = strategy; }
    public Long getMaxDowntimeMillis() { return maxDowntimeMillis; }
    public void setMaxDowntimeMillis(Long maxDowntimeMillis) { this.maxDowntimeMillis = maxDowntimeMillis; }
    public Long getBandwidthMiBps() { return bandwidthMiBps; }
    public void setBandwidthMiBps(Long bandwidthMiBps) { this.bandwidthMiBps = bandwidthMiBps; }
    public Long getCompletionTimeoutSeconds() { return completionTimeoutSeconds; }
    public void setCompletionTimeoutSeconds(Long seconds) { this.completionTimeoutSeconds = seconds; }
    public Boolean getAutoConverge() { return autoConverge; }
    public void setAutoConverge(Boolean autoConverge) { this.autoConverge = autoConverge; }
    public Integer getMultifdChannels() { return multifdChannels; }
    public void setMultifdChannels(Integer multifdChannels) { this.multifdChannels = multifdChannels; }
    public Boolean getCancel() { return cancel; }
    public void setCancel(Boolean cancel) { this.cancel = cancel; }
}
