package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;

/** The guest's network. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NetworkSpec {
    @Default("none")
    @JsonPropertyDescription("none: no NIC; user: a virtio NIC behind user-mode NAT on the node.")
    private NetworkMode mode;

    public NetworkMode getMode() { return mode; }

    public void setMode(NetworkMode mode) { this.mode = mode; }
}
