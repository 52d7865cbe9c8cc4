package io.kubevmm.node.network;

import java.util.Collection;

/**
 * The node's nftables rules for its segments, in tables of their own ({@code inet kubevmm} and
 * {@code bridge kubevmm}), replaced as a whole in one {@code nft -f -} transaction whenever the
 * set of segments changes, and deleted with the last segment. Nothing else's rules are touched.
 *
 * <ul>
 *   <li>{@code inet kubevmm}: masquerade of a segment's range leaving the node other than by its
 *       bridge: the guests' way out (egress NAT). Traffic between guests stays on the bridge.</li>
 *   <li>{@code bridge kubevmm}: what stays on its node: the gateway's frames (every node has the
 *       same gateway address and MAC), ARP for the gateway, and DHCP (each node serves the guests
 *       it runs), none of which may cross the VXLAN device to the other nodes.</li>
 * </ul>
 */
final class NatRules {
    static final String TABLE = "kubevmm";
    private final HostCommands commands;

    NatRules(HostCommands commands) {
        this.commands = commands;
    }

    /** The whole ruleset for {@code segments}: a transaction that first empties our tables. */
    static String ruleset(Collection<Segment> segments) {
        StringBuilder s = new StringBuilder();
        s.append("table inet ").append(TABLE).append('\n').append("delete table inet ").append(TABLE).append('\n');
        s.append("table bridge ").append(TABLE).append('\n').append("delete table bridge ").append(TABLE).append('\n');
        s.append("table inet ").append(TABLE).append(" {\n  chain postrouting {\n")
                .append("    type nat hook postrouting priority srcnat; policy accept;\n");
        for (Segment seg : segments) {
            s.append("    ip saddr ").append(seg.cidr()).append(" oifname != \"").append(seg.bridge()).append("\" masquerade\n");
        }
        s.append("  }\n}\n");
        s.append("table bridge ").append(TABLE).append(" {\n  chain postrouting {\n")
                .append("    type filter hook postrouting priority 0; policy accept;\n");
        for (Segment seg : segments) {
            String vx = "oifname \"" + seg.vxlan() + "\" ";
            s.append("    ").append(vx).append("ether saddr ").append(seg.gatewayMac()).append(" drop\n");
            s.append("    ").append(vx).append("arp daddr ip ").append(seg.cidr().gateway()).append(" drop\n");
            s.append("    ").append(vx).append("udp dport { 67, 68 } drop\n");
        }
        s.append("  }\n}\n");
        return s.toString();
    }

    void apply(Collection<Segment> segments) {
        if (segments.isEmpty()) {
            delete();
            return;
        }
        commands.run(java.util.List.of("nft", "-f", "-"), ruleset(segments));
    }

    void delete() {
        for (String family : new String[]{"inet", "bridge"}) {
            if (commands.tryRun("nft", "list", "table", family, TABLE).ok()) {
                commands.run("nft", "delete", "table", family, TABLE);
            }
        }
    }
}
