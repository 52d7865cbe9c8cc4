package io.kubevmm.node.network;

import io.kubevmm.node.engine.VmConfig;

import java.util.HexFormat;

/**
 * One cluster network on this node: its VXLAN segment {@code vni} and its range. Every name and
 * address the kernel is given is derived here from these two checked numbers, never taken from
 * a user's text: bridge {@code kvbr<vni>}, VXLAN device {@code kvvx<vni>}, the gateway (first
 * address of the range), and the gateway's MAC, the same on every node so that a guest that
 * migrates keeps a gateway entry in its ARP cache that is still right.
 */
public record Segment(int vni, Ipv4Cidr cidr) {
    /** VXLAN overhead on an underlay of MTU 1500: guests, taps and the bridge use this MTU. */
    public static final int MTU = 1450;
    /** The IANA VXLAN port. */
    public static final int VXLAN_PORT = 4789;

    public Segment {
        if (vni < 1 || vni > 0xffffff) {
            throw new NetworkException("vni " + vni + " is outside 1 to 16777215");
        }
    }

    /** The segment of a VM's overlay attachment. */
    public static Segment of(VmConfig.Overlay overlay) {
        return new Segment(overlay.vni(), Ipv4Cidr.parse("overlay cidr", overlay.cidr()));
    }

    public String bridge() { return InterfaceNames.checked("kvbr" + vni); }

    public String vxlan() { return InterfaceNames.checked("kvvx" + vni); }

    /** Locally administered unicast {@code 02:6b:76} ("kv") followed by the vni's three bytes. */
    public String gatewayMac() {
        return "02:6b:76:" + HexFormat.ofDelimiter(":").formatHex(new byte[]{(byte) (vni >>> 16), (byte) (vni >>> 8), (byte) vni});
    }
}
