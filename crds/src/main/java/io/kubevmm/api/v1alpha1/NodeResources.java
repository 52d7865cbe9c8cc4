package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** CPU and memory on a node. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NodeResources {
    @JsonPropertyDescription("vCPUs.")
    private Integer cpu;
    @JsonPropertyDescription("Memory, a quantity such as 16Gi.")
    private String memory;

    public Integer getCpu() { return cpu; }

    public void setCpu(Integer cpu) { this.cpu = cpu; }

    public String getMemory() { return memory; }

    public void setMemory(String memory) { this.memory = memory; }
}
