package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import java.util.List;
import java.util.Objects;

/** What qemu-guest-agent in the guest reports about it, while the agent is connected. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class GuestStatus {
    @JsonPropertyDescription("The guest's OS, e.g. \"Debian GNU/Linux 12 (bookworm)\" (guest-get-osinfo pretty-name).")
    private String osName;
    @JsonPropertyDescription("The OS version, e.g. \"12 (bookworm)\".")
    private String osVersion;
    @JsonPropertyDescription("The running kernel's release, e.g. \"6.1.0-27-cloud-amd64\".")
    private String kernelRelease;
    @JsonPropertyDescription("The guest's host name.")
    private String hostname;
    @JsonPropertyDescription("The guest's network interfaces (loopback left out) with their addresses; refreshed every few seconds (DHCP may change them).")
    private List<GuestInterface> interfaces;

    /** One network interface of the guest. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class GuestInterface {
        @JsonPropertyDescription("Interface name in the guest, e.g. \"ens3\".")
        private String name;
        @JsonPropertyDescription("Its hardware address.")
        private String macAddress;
        @JsonPropertyDescription("Its IPv4 and global IPv6 addresses (link-local left out).")
        private List<String> ipAddresses;

        public GuestInterface() { }

        public GuestInterface(String name, String macAddress, List<String> ipAddresses) {
            this.name = name;
            this.macAddress = macAddress;
            this.ipAddresses = ipAddresses;
        }

        public String getName() { return name; }
        public void setName(String name) { this.name = name; }
        public String getMacAddress() { return macAddress; }
        public void setMacAddress(String macAddress) { this.macAddress = macAddress; }
        public List<String> getIpAddresses() { return ipAddresses; }
        public void setIpAddresses(List<String> ipAddresses) { this.ipAddresses = ipAddresses; }

        @Override
        public boolean equals(Object o) {
            return o instanceof GuestInterface i && Objects.equals(name, i.name) && Objects.equals(macAddress, i.macAddress)
                    && Objects.equals(ipAddresses, i.ipAddresses);
        }

        @Override
        public int hashCode() { return Objects.hash(name, macAddress, ipAddresses); }
    }

    public String getOsName() { return osName; }
    public void setOsName(String osName) { this.osName = osName; }
    public String getOsVersion() { return osVersion; }
    public void setOsVersion(String osVersion) { this.osVersion = osVersion; }
    public String getKernelRelease() { return kernelRelease; }
    public void setKernelRelease(String kernelRelease) { this.kernelRelease = kernelRelease; }
    public String getHostname() { return hostname; }
    public void setHostname(String hostname) { this.hostname = hostname; }
    public List<GuestInterface> getInterfaces() { return interfaces; }
    public void setInterfaces(List<GuestInterface> interfaces) { this.interfaces = interfaces; }

    @Override
    public boolean equals(Object o) {
        return o instanceof GuestStatus g && Objects.equals(osName, g.osName) && Objects.equals(osVersion, g.osVersion)
                && Objects.equals(kernelRelease, g.kernelRelease) && Objects.equals(hostname, g.hostname)
                && Objects.equals(interfaces, g.interfaces);
    }

    @Override
    public int hashCode() { return Objects.hash(osName, osVersion, kernelRelease, hostname, interfaces); }
}
