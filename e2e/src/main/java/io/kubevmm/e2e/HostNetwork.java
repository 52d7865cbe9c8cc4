package io.kubevmm.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The local cluster's nodes as separate hosts on one machine: each node runtime (and the QEMUs it
 * starts) lives in a network namespace of its own, joined by a veth pair to one bridge in the
 * machine's namespace, the cluster's underlay. A node has its own underlay address, so overlay
 * traffic really crosses between hosts, and a node's link can be cut for failure tests. The
 * control plane listens on the bridge's address, which every namespace reaches.
 *
 * <p>Names and the /24 are derived from the cluster home, so {@code local down} from another
 * process finds what {@code local up} made: bridge {@code kvmu<k>} with 10.98.k.1, namespace
 * {@code kvmm<k>-<node>} whose {@code eth0} is 10.98.k.(10 + index), host end {@code kvmu<k>v<index>}.
 */
final class HostNetwork {
    private static final String SUBNET_PREFIX = "10.98.";
    private final int k;

    /** Separate hosts need root (namespaces, links, NAT); elsewhere the nodes share loopback. */
    static boolean available() {
        try {
            return java.nio.file.Files.readAllLines(Path.of("/proc/self/status")).stream()
                    .anyMatch(l -> l.startsWith("Uid:") && l.split("\\s+")[2].equals("0"));
        } catch (IOException e) {
            return false;
        }
    }

    HostNetwork(Path home) {
        this.k = Math.floorMod(home.toAbsolutePath().normalize().toString().hashCode(), 250) + 1;
    }

    String bridge() { return "kvmu" + k; }

    /** The machine's address on the underlay: where the control plane listens. */
    String hostAddress() { return SUBNET_PREFIX + k + ".1"; }

    String namespace(String node) { return "kvmm" + k + "-" + node; }

    String nodeAddress(int index) { return SUBNET_PREFIX + k + "." + (10 + index); }

    private String hostEnd(int index) { return "kvmu" + k + "v" + index; }

    /** The nftables table that lets the nodes reach beyond this machine (image downloads). */
    String natTable() { return "kubevmm_u" + k; }

    /** Runs {@code command} inside node {@code node}'s namespace. */
    List<String> inNamespace(String node, List<String> command) {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", namespace(node)));
        cmd.addAll(command);
        return cmd;
    }

    /** Makes the bridge and one namespace per node (what exists already is left as it is). */
    void create(List<String> nodes) throws IOException, InterruptedException {
        if (!exists("link", "show", bridge())) {
            ip("link", "add", bridge(), "type", "bridge");
            ip("addr", "add", hostAddress() + "/24", "dev", bridge());
            ip("link", "set", bridge(), "up");
        }
        // Nodes reach the world through this machine, as hosts behind a router do: forwarding on,
        // and their addresses masqueraded where traffic leaves by another interface.
        java.nio.file.Files.writeString(Path.of("/proc/sys/net/ipv4/ip_forward"), "1");
        if (!exists("nft", "list", "table", "ip", natTable())) {
            run(List.of("nft", "add table ip " + natTable() + "; add chain ip " + natTable()
                    + " postrouting { type nat hook postrouting priority srcnat; }; add rule ip " + natTable()
                    + " postrouting ip saddr " + SUBNET_PREFIX + k + ".0/24 oifname != \"" + bridge() + "\" masquerade"), false);
        }
        for (int i = 0; i < nodes.size(); i++) {
            String ns = namespace(nodes.get(i));
            if (exists("netns", "pids", ns)) {
                continue;
            }
            ip("netns", "add", ns);
            String peer = "kvmu" + k + "p" + i;
            ip("link", "add", hostEnd(i), "type", "veth", "peer", "name", peer);
            ip("link", "set", peer, "netns", ns);
            ip("link", "set", hostEnd(i), "master", bridge());
            ip("link", "set", hostEnd(i), "up");
            ip("-n", ns, "link", "set", peer, "name", "eth0");
            ip("-n", ns, "addr", "add", nodeAddress(i) + "/24", "dev", "eth0");
            ip("-n", ns, "link", "set", "eth0", "up");
            ip("-n", ns, "link", "set", "lo", "up");
            ip("-n", ns, "route", "add", "default", "via", hostAddress());
        }
    }

    /** This machine's VXLAN device on the overlay (see {@link #joinOverlay}). */
    String overlayDevice() { return "kvmh" + k; }

    /**
     * Makes this machine a member of overlay segment {@code vni} without being a node, so that
     * {@code curl http://<vm-ip>:<port>} works from here for guests on every node: a VXLAN device
     * from the underlay address that floods to each node and learns where a guest is from its
     * replies, holding {@code address/prefix} (an address of the segment no guest gets). The node
     * runtimes flood the segment to this machine in turn (kubevmm.node.overlay-hosts). Traffic
     * stays on the overlay both ways, so a guest's reply never meets another node's NAT.
     */
    void joinOverlay(int vni, String address, int prefix, int vxlanPort, int mtu, int nodes) throws IOException, InterruptedException {
        String dev = overlayDevice();
        if (exists("link", "show", dev)) {
            ip("link", "delete", dev);
        }
        ip("link", "add", dev, "type", "vxlan", "id", Integer.toString(vni), "dstport", Integer.toString(vxlanPort),
                "local", hostAddress());
        for (int i = 0; i < nodes; i++) {
            run(List.of("bridge", "fdb", "append", "00:00:00:00:00:00", "dev", dev, "dst", nodeAddress(i)), false);
        }
        ip("addr", "add", address + "/" + prefix, "dev", dev);
        ip("link", "set", dev, "mtu", Integer.toString(mtu), "up");
    }

    /** Takes node {@code index}'s link to the underlay down (cut) or up again. */
    void link(int index, boolean up) throws IOException, InterruptedException {
        ip("link", "set", hostEnd(index), up ? "up" : "down");
    }

    /**
     * Removes every namespace of this cluster (killing what still runs in one) and the bridge.
     * Returns what it removed.
     */
    List<String> delete() throws IOException, InterruptedException {
        List<String> removed = new ArrayList<>();
        for (String line : run(List.of("ip", "netns", "list"), true).lines().toList()) {
            String ns = line.split(" ")[0];
            if (!ns.startsWith("kvmm" + k + "-")) {
                continue;
            }
            for (String pid : run(List.of("ip", "netns", "pids", ns), true).lines().map(String::strip).filter(s -> !s.isEmpty()).toList()) {
                ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly);
            }
            ip("netns", "delete", ns);
            removed.add("netns " + ns);
        }
        if (exists("link", "show", overlayDevice())) {
            ip("link", "delete", overlayDevice());
            removed.add("vxlan " + overlayDevice());
        }
        if (exists("link", "show", bridge())) {
            ip("link", "delete", bridge());
            removed.add("bridge " + bridge());
        }
        if (exists("nft", "list", "table", "ip", natTable())) {
            run(List.of("nft", "delete", "table", "ip", natTable()), false);
            removed.add("nft table " + natTable());
        }
        return removed;
    }

    /** Whether {@code ip ARGS} (or {@code nft ARGS} when the first is "nft") succeeds: the thing exists. */
    private boolean exists(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(args[0].equals("nft") ? List.of() : List.of("ip"));
        cmd.addAll(List.of(args));
        return exec(cmd).code() == 0;
    }

    private void ip(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("ip"));
        cmd.addAll(List.of(args));
        run(cmd, false);
    }

    private static String run(List<String> cmd, boolean tolerateFailure) throws IOException, InterruptedException {
        Result r = exec(cmd);
        if (r.code() != 0 && !tolerateFailure) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed (separate hosts need root): " + r.output().strip());
        }
        return r.output();
    }

    private record Result(int code, String output) { }

    private static Result exec(List<String> cmd) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IllegalStateException("separate hosts need iproute2 and nftables (apt-get install iproute2 nftables): "
                    + e.getMessage(), e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Result(p.waitFor(), out);
    }
}
