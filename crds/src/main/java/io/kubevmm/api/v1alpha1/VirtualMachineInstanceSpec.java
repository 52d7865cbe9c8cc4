package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;

/** A VM resolved for one node: the machine, the node, and the node-level state to converge to. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VirtualMachineInstanceSpec extends MachineSpec {
    @JsonPropertyDescription("Node that runs this instance (also its kubevmm.io/node label).")
    private String nodeName;
    @Default(SpecDefaults.STATE)
    @JsonPropertyDescription("Node-level state: Stopped (created, vCPUs halted), Running or Suspended.")
    private InstanceState state;
    @Default(SpecDefaults.SUSPEND_MODE)
    @JsonPropertyDescription("How Suspended is held: Memory (paused in place) or Disk (state saved to the node's disk, memory freed).")
    private SuspendMode suspendMode;
    @JsonPropertyDescription("Start from saved state instead of booting.")
    private RestoreSource restoreFrom;
    @JsonPropertyDescription("network.mode overlay: the network's segment and the VM's address on it, as the operator allocated them.")
    private OverlayAttachment overlay;

    public OverlayAttachment getOverlay() { return overlay; }

    public void setOverlay(OverlayAttachment overlay) { this.overlay = overlay; }

    public String getNodeName() { return nodeName; }

    public void setNodeName(String nodeName) { this.nodeName = nodeName; }

    public InstanceState getState() { return state; }

    public void setState(InstanceState state) { this.state = state; }

    public SuspendMode getSuspendMode() { return suspendMode; }

    public void setSuspendMode(SuspendMode suspendMode) { this.suspendMode = suspendMode; }

    public RestoreSource getRestoreFrom() { return restoreFrom; }

    public void setRestoreFrom(RestoreSource restoreFrom) { this.restoreFrom = restoreFrom; }
}
