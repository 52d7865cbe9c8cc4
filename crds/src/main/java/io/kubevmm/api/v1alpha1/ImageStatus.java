package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** A disk's downloaded base image on the node, while the instance waits for it or it failed. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ImageStatus {
    /** Where the image stands. */
    public enum Phase { Downloading, Ready, Failed }

    @JsonPropertyDescription("Name of the disk (spec.disks[].name) whose source this is.")
    private String disk;
    @JsonPropertyDescription("SHA-256 the image is verified against (its name in the node's image cache).")
    private String sha256;
    @JsonPropertyDescription("Downloading, Ready or Failed.")
    private Phase phase;
    @JsonPropertyDescription("Bytes received so far.")
    private Long downloadedBytes;
    @JsonPropertyDescription("Size the server announced, when it did.")
    private Long totalBytes;
    @JsonPropertyDescription("With Failed: ImageChecksumMismatch, ImageNotFound, ImageUnreachable, ImageDiskFull or ImageDownloadFailed.")
    private String reason;
    @JsonPropertyDescription("Progress or the failure, in words.")
    private String message;

    public String getDisk() { return disk; }
    public void setDisk(String disk) { this.disk = disk; }
    public String getSha256() { return sha256; }
    public void setSha256(String sha256) { this.sha256 = sha256; }
    public Phase getPhase() { return phase; }
    public void setPhase(Phase phase) { this.phase = phase; }
    public Long getDownloadedBytes() { return downloadedBytes; }
    public void setDownloadedBytes(Long downloadedBytes) { this.downloadedBytes = downloadedBytes; }
    public Long getTotalBytes() { return totalBytes; }
    public void setTotalBytes(Long totalBytes) { this.totalBytes = totalBytes; }
    public String getReason() { return reason; }
    public void setReason(String reason) { this.reason = reason; }
    public String getMessage() { return message; }
    public void setMessage(String message) { this.message = message; }
}
