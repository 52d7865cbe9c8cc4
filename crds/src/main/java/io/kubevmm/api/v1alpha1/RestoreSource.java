package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Saved state an instance starts from instead of booting. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class RestoreSource {
    public enum Kind { Snapshot, Checkpoint }

    @JsonPropertyDescription("Snapshot (a VMSnapshot) or Checkpoint (the latest HA checkpoint).")
    private Kind kind;
    @JsonPropertyDescription("Name of the snapshot or checkpoint.")
    private String name;

    public Kind getKind() { return kind; }

    public void setKind(Kind kind) { this.kind = kind; }

    public String getName() { return name; }

    public void setName(String name) { this.name = name; }
}
