package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;

import java.util.List;

/** Progress and result of a restore. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VMRestoreStatus {
    public enum Phase { Pending, InProgress, Succeeded, Failed }

    @JsonPropertyDescription("Pending, InProgress, Succeeded or Failed.")
    private Phase phase;
    @JsonPropertyDescription("Node the VM was restored onto.")
    private String targetNode;
    @JsonPropertyDescription("Start to running, in milliseconds.")
    private Long durationMillis;
    @JsonPropertyDescription("When the restore finished.")
    private String completionTime;
    @JsonPropertyDescription("Why the restore failed, naming the file when an artifact is corrupt.")
    private String error;
    @JsonPropertyDescription("Conditions of the restore.")
    private List<Condition> conditions;

    public Phase getPhase() { return phase; }
    public void setPhase(Phase phase) { this.phase = phase; }
    public String getTargetNode() { return targetNode; }
    public void setTargetNode(String targetNode) { this.targetNode = targetNode; }
    public Long getDurationMillis() { return durationMillis; }
    public void setDurationMillis(Long durationMillis) { this.durationMillis = durationMillis; }
    public String getCompletionTime() { return completionTime; }
    public void setCompletionTime(String completionTime) { this.completionTime = completionTime; }
    public String getError() { return error; }
    public void setError(String error) { this.error = error; }
    public List<Condition> getConditions() { return conditions; }
    public void setConditions(List<Condition> conditions) { this.conditions = conditions; }
}
