package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/**
 * A base image the node downloads. The checksum is required: it is what makes the cached copy
 * trustworthy and shareable between VMs (the cache is keyed by it), whatever the server sends.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class HttpSource {
    /** Longest URL accepted. */
    public static final int MAX_URL = 2048;
    /** 64 lowercase hex digits. */
    public static final String SHA256_PATTERN = "^[0-9a-f]{64}$";

    @Required
    @Size(max = MAX_URL)
    @JsonPropertyDescription("http:// or https:// URL of a raw or qcow2 image (at most 2048 characters).")
    private String url;
    @Required
    @Pattern(SHA256_PATTERN)
    @JsonPropertyDescription("SHA-256 of the image file, 64 lowercase hex digits; a download that does not match is refused.")
    private String sha256;

    public HttpSource() { }

    public HttpSource(String url, String sha256) {
        this.url = url;
        this.sha256 = sha256;
    }

    public String getUrl() { return url; }

    public void setUrl(String url) { this.url = url; }

    public String getSha256() { return sha256; }

    public void setSha256(String sha256) { this.sha256 = sha256; }
}
