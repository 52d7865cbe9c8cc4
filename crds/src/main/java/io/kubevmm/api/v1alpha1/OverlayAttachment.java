package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import java.util.Objects;

/**
 * A VM's place on an overlay network: written by the operator into the VM's status (ipAddress,
 * macAddress) and, with the network's segment, into the instance's spec for its node runtime.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class OverlayAttachment {
    @JsonPropertyDescription("The VMNetwork.")
    private String networkName;
    @JsonPropertyDescription("The network's range in CIDR notation (instance spec only).")
    private String cidr;
    @JsonPropertyDescription("The network's VXLAN identifier (instance spec only).")
    private Integer vni;
    @JsonPropertyDescription("The VM's IPv4 address, stable for its life.")
    private String ipAddress;
    @JsonPropertyDescription("The VM's MAC address, stable for its life.")
    private String macAddress;

    public String getNetworkName() { return networkName; }
    public void setNetworkName(String networkName) { this.networkName = networkName; }
    public String getCidr() { return cidr; }
    public void setCidr(String cidr) { this.cidr = cidr; }
    public Integer getVni() { return vni; }
    public void setVni(Integer vni) { this.vni = vni; }
    public String getIpAddress() { return ipAddress; }
    public void setIpAddress(String ipAddress) { this.ipAddress = ipAddress; }
    public String getMacAddress() { return macAddress; }
    public void setMacAddress(String macAddress) { this.macAddress = macAddress; }

    @Override
    public boolean equals(Object o) {
        return o instanceof OverlayAttachment a && Objects.equals(networkName, a.networkName) && Objects.equals(cidr, a.cidr)
                && Objects.equals(vni, a.vni) && Objects.equals(ipAddress, a.ipAddress) && Objects.equals(macAddress, a.macAddress);
    }

    @Override
    public int hashCode() { return Objects.hash(networkName, cidr, vni, ipAddress, macAddress); }
}
