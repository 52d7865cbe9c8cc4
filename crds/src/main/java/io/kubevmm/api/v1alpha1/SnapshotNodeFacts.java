package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import java.util.List;

/**
 * What the node taking a snapshot observed ({@code status.node}), written by that node alone. The
 * operator reads these facts and alone derives the phase, the conditions and the fields users read.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SnapshotNodeFacts {
    @JsonPropertyDescription("Node that reports these facts.")
    private String node;
    @JsonPropertyDescription("When the node began to take the snapshot.")
    private String startTime;
    @JsonPropertyDescription("When every artifact was stored and checksummed.")
    private String completedTime;
    @JsonPropertyDescription("Total size of the artifacts.")
    private Long sizeBytes;
    @JsonPropertyDescription("How long the guest was paused, in milliseconds.")
    private Long pauseMillis;
    @JsonPropertyDescription("Start to stored, in milliseconds.")
    private Long durationMillis;
    @JsonPropertyDescription("The instant the snapshot represents.")
    private String creationTime;
    @JsonPropertyDescription("Files of the snapshot.")
    private List<SnapshotArtifact> contents;
    @JsonPropertyDescription("Facts about the guest agent during the capture: GuestAgent (an agent was connected), Frozen (it froze the guest's file systems for the capture and thawed them after), NoGuestAgent (none was connected: the snapshot is crash-consistent only).")
    private List<String> indications;
    @JsonPropertyDescription("When the node gave up.")
    private String failedTime;
    @JsonPropertyDescription("One word saying why (SnapshotFailed, VMNotHere, Interrupted).")
    private String failureReason;
    @JsonPropertyDescription("What the latest fact means, in words.")
    private String message;

    public String getNode() { return node; }
    public void setNode(String node) { this.node = node; }
    public String getStartTime() { return startTime; }
    public void setStartTime(String startTime) { this.startTime = startTime; }
    public String getCompletedTime() { return completedTime; }
    public void setCompletedTime(String completedTime) { this.completedTime = completedTime; }
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
    public String getFailedTime() { return failedTime; }
    public void setFailedTime(String failedTime) { this.failedTime = failedTime; }
    public String getFailureReason() { return failureReason; }
    public void setFailureReason(String failureReason) { this.failureReason = failureReason; }
    public String getMessage() { return message; }
    public void setMessage(String message) { this.message = message; }

    public List<String> getIndications() { return indications; }
    public void setIndications(List<String> indications) { this.indications = indications; }
}
