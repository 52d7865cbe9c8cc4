package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;

/** A file on the node. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class FileRef {
    @Required
    @JsonPropertyDescription("Path of the file on the node; relative paths resolve in the node's image directory.")
    private String path;

    public FileRef() { }

    public FileRef(String path) { this.path = path; }

    public String getPath() { return path; }

    public void setPath(String path) { this.path = path; }
}
