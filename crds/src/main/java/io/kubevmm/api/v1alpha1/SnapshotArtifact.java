package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** One file of a snapshot in its node's snapshot store. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SnapshotArtifact {
    @JsonPropertyDescription("What the file holds, e.g. state or disk-data.")
    private String name;
    @JsonPropertyDescription("Path relative to the snapshot store of the snapshot's node (<namespace>_<snapshot>/<file>); never a host path.")
    private String path;
    @JsonPropertyDescription("Size in bytes.")
    private Long sizeBytes;
    @JsonPropertyDescription("SHA-256 of the file, verified before every restore.")
    private String sha256;

    public String getName() { return name; }
    public void setName(String name) { this.name = name; }
    public String getPath() { return path; }
    public void setPath(String path) { this.path = path; }
    public Long getSizeBytes() { return sizeBytes; }
    public void setSizeBytes(Long sizeBytes) { this.sizeBytes = sizeBytes; }
    public String getSha256() { return sha256; }
    public void setSha256(String sha256) { this.sha256 = sha256; }
}
