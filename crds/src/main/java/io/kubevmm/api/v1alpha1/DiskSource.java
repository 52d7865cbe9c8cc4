package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * Where a disk's base image comes from: a file already in the node's image directory
 * ({@code path}, as before this type existed, so {@code source: {path: base.qcow2}} stays valid),
 * or an HTTP(S) download the node verifies against its sha256 and keeps in its image cache.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "has(self.path) != has(self.http)",
        message = "a disk source needs exactly one of path (a file in the node's image directory) or http (a download)")
public class DiskSource {
    @JsonPropertyDescription("File in the node's image directory, relative to it (example: base.qcow2).")
    private String path;
    @JsonPropertyDescription("Image downloaded over HTTP(S) once per node into its image cache, verified by sha256, shared by every VM using it.")
    private HttpSource http;

    public DiskSource() { }

    public DiskSource(String path) { this.path = path; }

    /** A download source. */
    public static DiskSource http(String url, String sha256) {
        DiskSource source = new DiskSource();
        source.setHttp(new HttpSource(url, sha256));
        return source;
    }

    public String getPath() { return path; }

    public void setPath(String path) { this.path = path; }

    public HttpSource getHttp() { return http; }

    public void setHttp(HttpSource http) { this.http = http; }
}
