package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;

import java.util.List;

/**
 * Progress and result of a snapshot. The operator writes every field except {@code node}, which
 * the node taking the snapshot writes.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VMSnapshotStatus {
    public enum Phase { Pending, InProgress, Ready, Failed }

    @JsonPropertyDescription("Pending, InProgress, Ready or Failed.")
    private Phase phase;
    @JsonPropertyDescription("True once every artifact is stored and checksummed.")
    private Boolean readyToUse;
    @JsonPropertyDescription("Node whose snapshot store holds the artifacts.")
    private String nodeName;
    @JsonPropertyDescription("Total size of the artifacts.")
    private Long sizeBytes;
    @JsonPropertyDescription("How long the guest was paused, in milliseconds.")
    private Long pauseMillis;
    @JsonPropertyDescription("Start to Ready, in milliseconds.")
    private Long durationMillis;
    @JsonPropertyDescription("The instant the snapshot represents.")
    private String creationTime;
    @JsonPropertyDescription("Files of the snapshot.")
    private List<SnapshotArtifact> contents;
    @JsonPropertyDescription("Facts about the guest agent during the capture: GuestAgent (an agent was connected), Frozen (it froze the guest's file systems for the capture and thawed them after), NoGuestAgent (none was connected: the snapshot is crash-consistent only).")
    private List<String> indications;
    @JsonPropertyDescription("Why the snapshot failed.")
    private String error;
    @JsonPropertyDescription("Conditions of the snapshot.")
    private List<Condition> conditions;
    @JsonPropertyDescription("Facts the node taking the snapshot reports (its block alone); the operator derives the fields above from them.")
    private SnapshotNodeFacts node;

    public Phase getPhase() { return phase; }
    public void setPhase(Phase phase) { this.phase = phase; }
    public Boolean getReadyToUse() { return readyToUse; }
    public void setReadyToUse(Boolean readyToUse) { this.readyToUse = readyToUse; }
    public String getNodeName() { return nodeName; }
    public void setNodeName(String nodeName) { this.nodeName = nodeName; }
    public Long getSizeBytes() { return sizeBytes; }
    public void setSizeBytes(Long sizeBytes) { this.sizeBytes = sizeBytes; }
    public Long getPauseMillis() { return pauseMillis; }
    public void setPauseMillis(Long pauseMillis) { this.pauseMillis = pauseMillis; }
    public Long getDurationMillis() { return durationMillis; }
    public void setDurationMillis(Long durationMillis) { this.durationMillis = durationMillis; }
    public String getCreationTime() { return creationTime; }
    public void setCreationTime(String creationTime) { this.creationTime = creationTime; }
    public List<SnapshotArtifact> getContents() { return contents; }
    public void setContents(List<SnapshotArtifact> contents) { this.contents = contents; }
    public String getError() { return error; }
    public void setError(String error) { this.error = error; }
    public List<Condition> getConditions() { return conditions; }
    public void setConditions(List<Condition> conditions) { this.conditions = conditions; }
    public SnapshotNodeFacts getNode() { return node; }
    public void setNode(SnapshotNodeFacts node) { this.node = node; }

    public List<String> getIndications() { return indications; }
    public void setIndications(List<String> indications) { this.indications = indications; }
}
