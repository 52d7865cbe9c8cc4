package io.kubevmm.node.network;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What the data plane derives from a network's vni and cidr before anything reaches the kernel (no root needed). */
class NamesAndRulesTest {

    @Test
    void namesFitTheKernelsLimitForEveryVni() {
        Segment largest = new Segment(16777215, Ipv4Cidr.parse("cidr", "10.0.0.0/8"));
        assertThat(largest.bridge()).isEqualTo("kvbr16777215").hasSizeLessThanOrEqualTo(15);
        assertThat(largest.vxlan()).isEqualTo("kvvx16777215").hasSizeLessThanOrEqualTo(15);
        assertThat(largest.gatewayMac()).isEqualTo("02:6b:76:ff:ff:ff");
        assertThat(new Segment(100, Ipv4Cidr.parse("cidr", "10.0.0.0/8")).gatewayMac()).isEqualTo("02:6b:76:00:00:64");
        assertThatThrownBy(() -> new Segment(0, Ipv4Cidr.parse("cidr", "10.0.0.0/8"))).hasMessageContaining("vni 0 is outside 1 to 16777215");
        assertThatThrownBy(() -> InterfaceNames.checked("kvtap-../x")).hasMessageContaining("cannot be an interface name");
        assertThatThrownBy(() -> InterfaceNames.checked("kvtap0123456789ab")).hasMessageContaining("at most 15");
    }

    @Test
    void aCidrIsCheckedAndGivesItsGatewayAndGuestAddresses() {
        Ipv4Cidr cidr = Ipv4Cidr.parse("spec.cidr", "10.200.0.0/16");
        assertThat(cidr.gateway()).isEqualTo("10.200.0.1");
        assertThat(cidr.gatewayWithPrefix()).isEqualTo("10.200.0.1/16");
        assertThat(cidr.netmask()).isEqualTo("255.255.0.0");
        assertThat(cidr.broadcast()).isEqualTo("10.200.255.255");
        assertThat(cidr.isGuestAddress(Ipv4Cidr.address("ip", "10.200.3.4"))).isTrue();
        assertThat(cidr.isGuestAddress(Ipv4Cidr.address("ip", "10.200.0.1"))).as("gateway").isFalse();
        assertThat(cidr.isGuestAddress(Ipv4Cidr.address("ip", "10.200.255.255"))).as("broadcast").isFalse();
        assertThat(cidr.isGuestAddress(Ipv4Cidr.address("ip", "10.201.0.4"))).isFalse();
        assertThatThrownBy(() -> Ipv4Cidr.parse("spec.cidr", "10.200.0.0/30")).hasMessageContaining("spec.cidr: prefix /30 is outside /8 to /29");
        assertThatThrownBy(() -> Ipv4Cidr.parse("spec.cidr", "10.200.0.0")).hasMessageContaining("has no prefix length");
        assertThatThrownBy(() -> Ipv4Cidr.parse("spec.cidr", "10.300.0.0/16")).hasMessageContaining("octet 300 > 255");
        assertThatThrownBy(() -> InterfaceNames.unicastMac("mac", "01:00:5e:00:00:01")).hasMessageContaining("not a unicast MAC");
    }

    @Test
    void theRulesetReplacesOurTablesOnlyAndKeepsGatewayArpAndDhcpOffTheVxlan() {
        String rules = NatRules.ruleset(List.of(new Segment(7, Ipv4Cidr.parse("cidr", "10.7.0.0/24"))));
        assertThat(rules).startsWith("table inet kubevmm\ndelete table inet kubevmm\ntable bridge kubevmm\ndelete table bridge kubevmm\n")
                .contains("type nat hook postrouting priority srcnat;")
                .contains("ip saddr 10.7.0.0/24 oifname != \"kvbr7\" masquerade")
                .contains("oifname \"kvvx7\" ether saddr 02:6b:76:00:00:07 drop")
                .contains("oifname \"kvvx7\" arp daddr ip 10.7.0.1 drop")
                .contains("oifname \"kvvx7\" udp dport { 67, 68 } drop");
    }

    @Test
    void commandsRunAsArgumentListsBehindTheirPrefix() {
        assertThat(HostCommands.inNamespace("node-a").command(List.of("ip", "link", "show")))
                .containsExactly("ip", "netns", "exec", "node-a", "ip", "link", "show");
        assertThat(HostCommands.host().command(List.of("nft", "-f", "-"))).containsExactly("nft", "-f", "-");
        assertThatThrownBy(() -> HostCommands.inNamespace("a b; rm")).hasMessageContaining("is not a plain name");
    }
}
