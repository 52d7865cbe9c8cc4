package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** What an administrator asks of a node. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VMNodeSpec {
    @JsonPropertyDescription("Cordon: no new VMs are scheduled here; running ones stay.")
    private Boolean unschedulable;
    @JsonPropertyDescription("Live-migrate every VM away from this node.")
    private Boolean evacuate;

    public Boolean getUnschedulable() { return unschedulable; }

    public void setUnschedulable(Boolean unschedulable) { this.unschedulable = unschedulable; }

    public Boolean getEvacuate() { return evacuate; }

    public void setEvacuate(Boolean evacuate) { this.evacuate = evacuate; }
}
