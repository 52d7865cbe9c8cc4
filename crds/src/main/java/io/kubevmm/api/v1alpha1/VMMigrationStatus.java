package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;

import java.util.List;

/**
 * Progress and outcome of a migration, updated at most once a second while it runs. The operator
 * writes every field except {@code source} and {@code target}, which the two node runtimes write.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VMMigrationStatus {
    public enum Phase { Pending, Scheduling, TargetReady, Running, PostCopy, Succeeded, Failed, Cancelled }

    @JsonPropertyDescription("Pending, Scheduling, TargetReady, Running, PostCopy, Succeeded, Failed or Cancelled.")
    private Phase phase;
    @JsonPropertyDescription("Node the VM runs on before the migration.")
    private String sourceNode;
    @JsonPropertyDescription("Node the VM moves to.")
    private String targetNode;
    @JsonPropertyDescription("Mode in effect: PreCopy or PostCopy.")
    private String mode;
    @JsonPropertyDescription("Completed passes over guest memory.")
    private Long iterations;
    @JsonPropertyDescription("Bytes sent so far.")
    private Long transferredBytes;
    @JsonPropertyDescription("Bytes of guest memory still to send.")
    private Long remainingBytes;
    @JsonPropertyDescription("How fast the guest dirties memory.")
    private Long dirtyRateBytesPerSecond;
    @JsonPropertyDescription("vCPU throttle applied by auto-converge, in percent.")
    private Integer throttlePercent;
    @JsonPropertyDescription("How long the guest was paused at switchover, measured by QEMU.")
    private Long downtimeMillis;
    @JsonPropertyDescription("Start to completion.")
    private Long totalTimeMillis;
    @JsonPropertyDescription("When the transfer started.")
    private String startTime;
    @JsonPropertyDescription("When it succeeded, failed or was cancelled.")
    private String completionTime;
    @JsonPropertyDescription("Seconds after which a migration still in pre-copy is aborted (the VM stays on the source): spec.completionTimeoutSeconds, or when unset the operator's default scaled by the VM's memory (150 s per GiB, at least 60 s by default).")
    private Long completionTimeoutSeconds;
    @JsonPropertyDescription("Why it failed.")
    private String failureReason;
    @JsonPropertyDescription("Conditions of the migration.")
    private List<Condition> conditions;
    @JsonPropertyDescription("Facts the source node runtime reports (its block alone); the operator derives the fields above from them.")
    private MigrationNodeFacts source;
    @JsonPropertyDescription("Facts the target node runtime reports (its block alone); the operator derives the fields above from them.")
    private MigrationNodeFacts target;

    public Phase getPhase() { return phase; }
    public void setPhase(Phase phase) { this.phase = phase; }
    public String getSourceNode() { return sourceNode; }
    public void setSourceNode(String sourceNode) { this.sourceNode = sourceNode; }
    public String getTargetNode() { return targetNode; }
    public void setTargetNode(String targetNode) { this.targetNode = targetNode; }
    public String getMode() { return mode; }
    public void setMode(String mode) { this.mode = mode; }
    public Long getIterations() { return iterations; }
    public void setIterations(Long iterations) { this.iterations = iterations; }
    public Long getTransferredBytes() { return transferredBytes; }
    public void setTransferredBytes(Long transferredBytes) { this.transferredBytes = transferredBytes; }
    public Long getRemainingBytes() { return remainingBytes; }
    public void setRemainingBytes(Long remainingBytes) { this.remainingBytes = remainingBytes; }
    public Long getDirtyRateBytesPerSecond() { return dirtyRateBytesPerSecond; }
    public void setDirtyRateBytesPerSecond(Long rate) { this.dirtyRateBytesPerSecond = rate; }
    public Integer getThrottlePercent() { return throttlePercent; }
    public void setThrottlePercent(Integer throttlePercent) { this.throttlePercent = throttlePercent; }
    public Long getDowntimeMillis() { return downtimeMillis; }
    public void setDowntimeMillis(Long downtimeMillis) { this.downtimeMillis = downtimeMillis; }
    public Long getTotalTimeMillis() { return totalTimeMillis; }
    public void setTotalTimeMillis(Long totalTimeMillis) { this.totalTimeMillis = totalTimeMillis; }
    public String getStartTime() { return startTime; }
    public void setStartTime(String startTime) { this.startTime = startTime; }
    public String getCompletionTime() { return completionTime; }
    public void setCompletionTime(String completionTime) { this.completionTime = completionTime; }
    public Long getCompletionTimeoutSeconds() { return completionTimeoutSeconds; }
    public void setCompletionTimeoutSeconds(Long seconds) { this.completionTimeoutSeconds = seconds; }
    public String getFailureReason() { return failureReason; }
    public void setFailureReason(String failureReason) { this.failureReason = failureReason; }
    public List<Condition> getConditions() { return conditions; }
    public void setConditions(List<Condition> conditions) { this.conditions = conditions; }
    public MigrationNodeFacts getSource() { return source; }
    public void setSource(MigrationNodeFacts source) { this.source = source; }
    public MigrationNodeFacts getTarget() { return target; }
    public void setTarget(MigrationNodeFacts target) { this.target = target; }
}
