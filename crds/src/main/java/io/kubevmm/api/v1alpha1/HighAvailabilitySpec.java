package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.ValidationRule;

/** How a VM survives the loss of its node (see docs/ha.md). */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "!has(self.checkpointIntervalSeconds) || (has(self.mode) && self.mode == 'Checkpoint')",
        message = "checkpointIntervalSeconds only applies with mode Checkpoint")
@ValidationRule(value = "!has(self.restartWithLocalDiskLoss) || (has(self.mode) && self.mode == 'Restart')",
        message = "restartWithLocalDiskLoss only applies with mode Restart")
public class HighAvailabilitySpec {
    public enum Mode { None, Restart, Checkpoint }

    /**
     * Annotation the operator puts on a VM's instance ({@code Restart} for mode Restart): its node
     * runtime and that node's fence guard kill the guest once the node can no longer prove it
     * holds its Lease, so the operator may start it elsewhere. Absent: the guest is never fenced.
     */
    public static final String FENCE_ANNOTATION = "kubevmm.io/high-availability";

    @Default("None")
    @JsonPropertyDescription("None: the VM stays down while its node is lost and runs again when that node returns; "
            + "Restart: once the node's Lease expired and the node fenced itself, the VM boots again on another node "
            + "(cold boot: memory is lost; local disks only with restartWithLocalDiskLoss); "
            + "Checkpoint: not available in this release yet (refused). See docs/ha.md.")
    private Mode mode;
    @Min(1)
    @JsonPropertyDescription("Seconds between checkpoints (mode Checkpoint only).")
    private Integer checkpointIntervalSeconds;
    @JsonPropertyDescription("Mode Restart only. A VM with disks keeps them on its node; true lets it restart on another "
            + "node with fresh disks (blank disks empty again, image disks a new overlay of their image): whatever "
            + "was written to them on the lost node is gone there. Default false: the VM stays down until its node returns.")
    private Boolean restartWithLocalDiskLoss;

    public Mode getMode() { return mode; }

    public void setMode(Mode mode) { this.mode = mode; }

    public Integer getCheckpointIntervalSeconds() { return checkpointIntervalSeconds; }

    public void setCheckpointIntervalSeconds(Integer seconds) { this.checkpointIntervalSeconds = seconds; }

    public Boolean getRestartWithLocalDiskLoss() { return restartWithLocalDiskLoss; }

    public void setRestartWithLocalDiskLoss(Boolean restartWithLocalDiskLoss) { this.restartWithLocalDiskLoss = restartWithLocalDiskLoss; }

    /** The mode, None when unset. */
    public static Mode mode(VirtualMachineSpec spec) {
        HighAvailabilitySpec ha = spec == null ? null : spec.getHighAvailability();
        return ha == null || ha.getMode() == null ? Mode.None : ha.getMode();
    }

    /** Whether the user accepted fresh disks on another node. */
    public static boolean restartsWithLocalDiskLoss(VirtualMachineSpec spec) {
        HighAvailabilitySpec ha = spec == null ? null : spec.getHighAvailability();
        return ha != null && Boolean.TRUE.equals(ha.getRestartWithLocalDiskLoss());
    }
}
