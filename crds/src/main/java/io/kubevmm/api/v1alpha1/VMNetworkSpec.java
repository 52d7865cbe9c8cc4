package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;

/** The address range and the VXLAN segment of a VMNetwork. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VMNetworkSpec {
    @Required
    @JsonPropertyDescription("IPv4 range in CIDR notation, e.g. 10.200.0.0/16 (prefix /8 to /29). The first address is the network's gateway on every node (NAT to the outside); VMs get the others.")
    private String cidr;
    @Required
    @Min(1)
    @Max(16777215)
    @JsonPropertyDescription("VXLAN network identifier carrying this network between nodes (1 to 16777215), unique per network.")
    private Integer vni;

    public String getCidr() { return cidr; }

    public void setCidr(String cidr) { this.cidr = cidr; }

    public Integer getVni() { return vni; }

    public void setVni(Integer vni) { this.vni = vni; }
}
