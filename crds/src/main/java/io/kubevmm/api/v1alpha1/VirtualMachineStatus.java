package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;

import java.util.List;

/** The VM as the operator sees it, rolled up from its instance. Written only by the operator. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VirtualMachineStatus {
    @JsonPropertyDescription("Lifecycle phase: Pending, Scheduling, Creating, Stopped, Starting, Running, Suspending, Suspended, Resuming, Migrating, Stopping, Defined or Failed.")
    private VmPhase phase;
    @JsonPropertyDescription("Node the VM is placed on.")
    private String nodeName;
    @JsonPropertyDescription("Node that holds the VM's local qcow2 disks (set once the VM with disks is placed, kept while it is stopped or Defined). The VM starts again only there; only a live migration moves them (to its target). Unset for a VM without disks.")
    private String diskNode;
    @JsonPropertyDescription("Valid, Scheduled, Ready, Migratable, Protected.")
    private List<Condition> conditions;
    @JsonPropertyDescription("metadata.generation this status reflects.")
    private Long observedGeneration;

    public VmPhase getPhase() { return phase; }
    public void setPhase(VmPhase phase) { this.phase = phase; }
    public String getNodeName() { return nodeName; }
    public void setNodeName(String nodeName) { this.nodeName = nodeName; }
    public String getDiskNode() { return diskNode; }
    public void setDiskNode(String diskNode) { this.diskNode = diskNode; }
    public List<Condition> getConditions() { return conditions; }
    public void setConditions(List<Condition> conditions) { this.conditions = conditions; }
    public Long getObservedGeneration() { return observedGeneration; }
    public void setObservedGeneration(Long observedGeneration) { this.observedGeneration = observedGeneration; }
}
