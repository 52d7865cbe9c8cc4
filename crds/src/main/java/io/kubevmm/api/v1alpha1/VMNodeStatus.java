package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;

import java.util.List;

/** What a node runtime reports about its node, every heartbeat. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VMNodeStatus {
    @JsonPropertyDescription("CPU and memory VMs may use on this node.")
    private NodeResources capacity;
    @JsonPropertyDescription("CPU and memory of the VMs placed on this node.")
    private NodeResources allocated;
    @JsonPropertyDescription("Number of VMs placed on this node.")
    private Integer vmCount;
    @JsonPropertyDescription("kvm or tcg.")
    private String accelerator;
    @JsonPropertyDescription("QEMU version on this node, as its QMP monitor reports it.")
    private String qemuVersion;
    @JsonPropertyDescription("QEMU migration capabilities the node runtime uses on this node (those its QEMU supports), e.g. postcopy-ram, background-snapshot.")
    private List<String> qemuCapabilities;
    @JsonPropertyDescription("host:port of the node runtime's HTTP API.")
    private String endpoint;
    @JsonPropertyDescription("host:port of the node runtime's migration listener.")
    private String migrationEndpoint;
    @JsonPropertyDescription("The node's underlay IPv4 address: overlay networks' VXLAN packets to this node's VMs go there.")
    private String underlayAddress;
    @JsonPropertyDescription("When the node runtime last reported.")
    private String heartbeatTime;
    @JsonPropertyDescription("Progress of an evacuation (spec.evacuate: true), written by the operator.")
    private EvacuationStatus evacuation;
    @JsonPropertyDescription("Ready: the node runtime is up and renewing its Lease.")
    private List<Condition> conditions;

    public NodeResources getCapacity() { return capacity; }
    public void setCapacity(NodeResources capacity) { this.capacity = capacity; }
    public NodeResources getAllocated() { return allocated; }
    public void setAllocated(NodeResources allocated) { this.allocated = allocated; }
    public String getUnderlayAddress() { return underlayAddress; }
    public void setUnderlayAddress(String underlayAddress) { this.underlayAddress = underlayAddress; }
    public Integer getVmCount() { return vmCount; }
    public void setVmCount(Integer vmCount) { this.vmCount = vmCount; }
    public String getAccelerator() { return accelerator; }
    public void setAccelerator(String accelerator) { this.accelerator = accelerator; }
    public String getQemuVersion() { return qemuVersion; }
    public void setQemuVersion(String qemuVersion) { this.qemuVersion = qemuVersion; }
    public List<String> getQemuCapabilities() { return qemuCapabilities; }
    public void setQemuCapabilities(List<String> qemuCapabilities) { this.qemuCapabilities = qemuCapabilities; }
    public String getEndpoint() { return endpoint; }
    public void setEndpoint(String endpoint) { this.endpoint = endpoint; }
    public String getMigrationEndpoint() { return migrationEndpoint; }
    public void setMigrationEndpoint(String migrationEndpoint) { this.migrationEndpoint = migrationEndpoint; }
    public String getHeartbeatTime() { return heartbeatTime; }
    public void setHeartbeatTime(String heartbeatTime) { this.heartbeatTime = heartbeatTime; }
    public List<Condition> getConditions() { return conditions; }
    public void setConditions(List<Condition> conditions) { this.conditions = conditions; }
    public EvacuationStatus getEvacuation() { return evacuation; }
    public void setEvacuation(EvacuationStatus evacuation) { this.evacuation = evacuation; }
}
