package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;

import java.util.Map;

/** What a user wants: the machine and the lifecycle state it should be in. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VirtualMachineSpec extends MachineSpec {
    @Default(SpecDefaults.STATE)
    @JsonPropertyDescription("Lifecycle state: Defined (definition only), Stopped (created on a node, vCPUs halted), Running or Suspended.")
    private VmState state;
    @Default(SpecDefaults.SUSPEND_MODE)
    @JsonPropertyDescription("How Suspended is held: Memory (paused in place) or Disk (state saved to the node's disk, memory freed).")
    private SuspendMode suspendMode;
    @JsonPropertyDescription("What the VM does when its node is lost (Lease expired): mode None stays down until the node returns, Restart boots it on another node once the lost node is fenced (docs/ha.md).")
    private HighAvailabilitySpec highAvailability;
    @JsonPropertyDescription("The VM only goes to VMNodes whose labels include all of these.")
    private Map<String, String> nodeSelector;

    public VmState getState() { return state; }

    public void setState(VmState state) { this.state = state; }

    public SuspendMode getSuspendMode() { return suspendMode; }

    public void setSuspendMode(SuspendMode suspendMode) { this.suspendMode = suspendMode; }

    public HighAvailabilitySpec getHighAvailability() { return highAvailability; }

    public void setHighAvailability(HighAvailabilitySpec highAvailability) { this.highAvailability = highAvailability; }

    public Map<String, String> getNodeSelector() { return nodeSelector; }

    public void setNodeSelector(Map<String, String> nodeSelector) { this.nodeSelector = nodeSelector; }
}
