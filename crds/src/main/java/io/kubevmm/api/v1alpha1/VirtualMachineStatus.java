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
    @JsonPropertyDescription("The instance's downloads of base images (disks[].source.http) while it waits for them or one failed, as its node reports them; absent once all are in the node's cache.")
    private List<ImageStatus> images;
    @JsonPropertyDescription("The guest as its qemu-guest-agent reports it (OS, host name, interfaces and addresses), from the instance; absent while no agent is connected (condition AgentConnected says why).")
    private GuestStatus guest;
    @JsonPropertyDescription("network.mode overlay: the VM's address on its network (networkName, ipAddress, macAddress), stable for the VM's life: restarts, suspend to disk, migration and rollback keep it; released when the VM is deleted.")
    private OverlayAttachment network;
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
    public List<ImageStatus> getImages() { return images; }
    public void setImages(List<ImageStatus> images) { this.images = images; }
    public OverlayAttachment getNetwork() { return network; }
    public void setNetwork(OverlayAttachment network) { this.network = network; }
    public GuestStatus getGuest() { return guest; }
    public void setGuest(GuestStatus guest) { this.guest = guest; }
    public List<Condition> getConditions() { return conditions; }
    public void setConditions(List<Condition> conditions) { this.conditions = conditions; }
    public Long getObservedGeneration() { return observedGeneration; }
    public void setObservedGeneration(Long observedGeneration) { this.observedGeneration = observedGeneration; }
}
