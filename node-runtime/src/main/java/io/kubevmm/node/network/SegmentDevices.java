package io.kubevmm.node.network;

/**
 * A segment's devices on this node (iproute2): the bridge with the gateway address and MAC, and
 * the VXLAN device enslaved to it that carries the segment to the other nodes. The VXLAN device
 * learns nothing by itself ({@code nolearning}): where a remote MAC lives is what {@link Fdb}
 * programs from the cluster's VMIs and VMNodes.
 */
final class SegmentDevices {
    private final HostCommands commands;

    SegmentDevices(HostCommands commands) {
        this.commands = commands;
    }

    boolean exists(String device) {
        return commands.tryRun("ip", "link", "show", "dev", device).ok();
    }

    /** Creates what is missing; what exists already (an earlier node runtime's) is kept and completed. */
    void create(Segment segment, String underlayAddress) {
        String bridge = segment.bridge();
        String vxlan = segment.vxlan();
        if (!exists(bridge)) {
            commands.run("ip", "link", "add", bridge, "type", "bridge");
        }
        commands.run("ip", "link", "set", "dev", bridge, "address", segment.gatewayMac(), "mtu", Integer.toString(Segment.MTU));
        if (!exists(vxlan)) {
            commands.run("ip", "link", "add", vxlan, "type", "vxlan", "id", Integer.toString(segment.vni()),
                    "dstport", Integer.toString(Segment.VXLAN_PORT), "local", underlayAddress, "nolearning");
        }
        commands.run("ip", "link", "set", "dev", vxlan, "master", bridge, "mtu", Integer.toString(Segment.MTU), "up");
        String gateway = segment.cidr().gatewayWithPrefix();
        if (!commands.run("ip", "-o", "-4", "addr", "show", "dev", bridge).contains(" " + gateway + " ")) {
            commands.run("ip", "addr", "add", gateway, "dev", bridge);
        }
        commands.run("ip", "link", "set", "dev", bridge, "up");
    }

    /** The ports of {@code bridge} ({@code ip -j link show master}). */
    java.util.List<String> ports(String bridge) {
        java.util.List<String> names = new java.util.ArrayList<>();
        try {
            for (var link : new com.fasterxml.jackson.databind.ObjectMapper().readTree(commands.run("ip", "-j", "link", "show", "master", bridge))) {
                names.add(link.path("ifname").asText());
            }
        } catch (java.io.IOException e) {
            throw new NetworkException("cannot read the ports of " + bridge + ": " + e.getMessage(), e);
        }
        return names;
    }

    void delete(Segment segment) {
        if (exists(segment.bridge())) {
            // Taps of guests an earlier node runtime ran and this one never saw (their QEMU ended meanwhile).
            for (String port : ports(segment.bridge())) {
                if (port.startsWith("kvtap")) {
                    commands.tryRun("ip", "link", "del", "dev", InterfaceNames.checked(port));
                }
            }
        }
        for (String device : new String[]{segment.vxlan(), segment.bridge()}) {
            if (exists(device)) {
                commands.run("ip", "link", "del", "dev", device);
            }
        }
    }
}
