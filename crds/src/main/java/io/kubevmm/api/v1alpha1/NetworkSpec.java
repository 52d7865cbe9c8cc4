package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;

/** The guest's network. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NetworkSpec {
    @Default("none")
    @JsonPropertyDescription("none: no NIC; user: a virtio NIC behind user-mode NAT on the node (outbound only); overlay: a virtio NIC on a cluster network (VMNetwork) with one IP and MAC for the VM's life, reachable from every node and kept through live migration.")
    private NetworkMode mode;
    @JsonPropertyDescription("mode overlay only: the VMNetwork the VM joins; default \"default\".")
    private String networkName;

    public NetworkMode getMode() { return mode; }

    public void setMode(NetworkMode mode) { this.mode = mode; }

    public String getNetworkName() { return networkName; }

    public void setNetworkName(String networkName) { this.networkName = networkName; }
}
