package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;

import java.util.List;

/**
 * The network's address book, written only by the operator: which VM holds which IP and MAC.
 * Every change is an update carrying the resourceVersion read, so two allocations can never
 * hand out one address (the loser of a conflict reads again).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VMNetworkStatus {
    @JsonPropertyDescription("Addresses held by VMs.")
    private List<Allocation> allocations;
    @JsonPropertyDescription("Number of addresses held.")
    private Integer allocatedCount;
    @JsonPropertyDescription("Number of addresses still free.")
    private Integer freeCount;
    @JsonPropertyDescription("Valid: the spec is usable (cidr parses, vni unique).")
    private List<Condition> conditions;

    /** One VM's address on the network. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Allocation {
        @JsonPropertyDescription("The VM's IPv4 address.")
        private String ipAddress;
        @JsonPropertyDescription("The VM's MAC address (locally administered).")
        private String macAddress;
        @JsonPropertyDescription("The VM: namespace/name.")
        private String vm;
        @JsonPropertyDescription("The VM's metadata.uid (a VM deleted and created again under its name is another VM).")
        private String vmUid;

        public String getIpAddress() { return ipAddress; }
        public void setIpAddress(String ipAddress) { this.ipAddress = ipAddress; }
        public String getMacAddress() { return macAddress; }
        public void setMacAddress(String macAddress) { this.macAddress = macAddress; }
        public String getVm() { return vm; }
        public void setVm(String vm) { this.vm = vm; }
        public String getVmUid() { return vmUid; }
        public void setVmUid(String vmUid) { this.vmUid = vmUid; }
    }

    public List<Allocation> getAllocations() { return allocations; }
    public void setAllocations(List<Allocation> allocations) { this.allocations = allocations; }
    public Integer getAllocatedCount() { return allocatedCount; }
    public void setAllocatedCount(Integer allocatedCount) { this.allocatedCount = allocatedCount; }
    public Integer getFreeCount() { return freeCount; }
    public void setFreeCount(Integer freeCount) { this.freeCount = freeCount; }
    public List<Condition> getConditions() { return conditions; }
    public void setConditions(List<Condition> conditions) { this.conditions = conditions; }
}
