package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * What one node runtime observed of a migration ({@code status.source} or {@code status.target}).
 * Each block has one writer, that node; the operator reads the facts and alone derives the phase,
 * the conditions and the summary fields, so no two writers share a field or a list.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class MigrationNodeFacts {
    @JsonPropertyDescription("Node that reports these facts.")
    private String node;
    @JsonPropertyDescription("Target: when the incoming emulator began to wait for the guest's state.")
    private String readyTime;
    @JsonPropertyDescription("Source: when sending began.")
    private String startTime;
    @JsonPropertyDescription("Source: when the guest switched to post-copy (it runs on the target from then on).")
    private String postCopyTime;
    @JsonPropertyDescription("Source: when the progress figures below were sampled. Target: when the download progress in images was sampled.")
    private String sampleTime;
    @JsonPropertyDescription("Source: completed passes over guest memory.")
    private Long iterations;
    @JsonPropertyDescription("Source: bytes sent so far.")
    private Long transferredBytes;
    @JsonPropertyDescription("Source: bytes of guest memory still to send.")
    private Long remainingBytes;
    @JsonPropertyDescription("Source: how fast the guest dirties memory.")
    private Long dirtyRateBytesPerSecond;
    @JsonPropertyDescription("Source: vCPU throttle applied by auto-converge, in percent.")
    private Integer throttlePercent;
    @JsonPropertyDescription("Source: when QEMU completed the transfer (the guest runs on the target). Target: when the guest ran here.")
    private String completedTime;
    @JsonPropertyDescription("Source: guest pause at switchover measured by QEMU; unset when the figures were lost (node runtime restarted).")
    private Long downtimeMillis;
    @JsonPropertyDescription("Source: start to completion measured by QEMU.")
    private Long totalTimeMillis;
    @JsonPropertyDescription("When this node gave up on the migration.")
    private String failedTime;
    @JsonPropertyDescription("One word saying why it gave up (e.g. TransferFailed, Aborted, TargetFailed, SourceRestarted).")
    private String failureReason;
    @JsonPropertyDescription("True when it stopped because it was cancelled (spec.cancel, or the VMMigration ended) rather than failed.")
    private Boolean cancelled;
    @JsonPropertyDescription("What the latest fact means, in words.")
    private String message;
    @JsonPropertyDescription("Target: the base images (disks[].source.http) it downloads into its cache before it can prepare the incoming emulator; the operator waits while they progress.")
    private java.util.List<ImageStatus> images;

    public String getNode() { return node; }
    public void setNode(String node) { this.node = node; }
    public String getReadyTime() { return readyTime; }
    public void setReadyTime(String readyTime) { this.readyTime = readyTime; }
    public String getStartTime() { return startTime; }
    public void setStartTime(String startTime) { this.startTime = startTime; }
    public String getPostCopyTime() { return postCopyTime; }
    public void setPostCopyTime(String postCopyTime) { this.postCopyTime = postCopyTime; }
    public String getSampleTime() { return sampleTime; }
    public void setSampleTime(String sampleTime) { this.sampleTime = sampleTime; }
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
    public String getCompletedTime() { return completedTime; }
    public void setCompletedTime(String completedTime) { this.completedTime = completedTime; }
    public Long getDowntimeMillis() { return downtimeMillis; }
    public void setDowntimeMillis(Long downtimeMillis) { this.downtimeMillis = downtimeMillis; }
    public Long getTotalTimeMillis() { return totalTimeMillis; }
    public void setTotalTimeMillis(Long totalTimeMillis) { this.totalTimeMillis = totalTimeMillis; }
    public String getFailedTime() { return failedTime; }
    public void setFailedTime(String failedTime) { this.failedTime = failedTime; }
    public String getFailureReason() { return failureReason; }
    public void setFailureReason(String failureReason) { this.failureReason = failureReason; }
    public Boolean getCancelled() { return cancelled; }
    public void setCancelled(Boolean cancelled) { this.cancelled = cancelled; }
    public java.util.List<ImageStatus> getImages() { return images; }
    public void setImages(java.util.List<ImageStatus> images) { this.images = images; }
    public String getMessage() { return message; }
    public void setMessage(String message) { this.message = message; }
}
