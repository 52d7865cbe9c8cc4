package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;

/** A request to restore a snapshot: rollback when the target is the snapshot's own VM, a clone otherwise. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VMRestoreSpec extends LenientSpec {
    @Required
    @JsonPropertyDescription("Name of the VMSnapshot to restore (same namespace).")
    private String snapshotName;
    @Required
    @JsonPropertyDescription("The snapshot's own VM rolls it back; a new name creates a clone with a new identity.")
    private String targetVmName;
    @JsonPropertyDescription("Node to restore onto; unset restores onto the node that holds the snapshot (status.nodeName of the VMSnapshot).")
    private String targetNode;

    public String getSnapshotName() { return snapshotName; }
    public void setSnapshotName(String snapshotName) { this.snapshotName = snapshotName; }
    public String getTargetVmName() { return targetVmName; }
    public void setTargetVmName(String targetVmName) { this.targetVmName = targetVmName; }
    public String getTargetNode() { return targetNode; }
    public void setTargetNode(String targetNode) { this.targetNode = targetNode; }
}
