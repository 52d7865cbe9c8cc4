package io.kubevmm.node.network;

import io.kubevmm.node.engine.VmConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The overlay data plane on real devices: two "hosts" (network namespaces joined by a veth pair,
 * underlay 10.99.0.1 and 10.99.0.2) each run {@link OverlayNetworks} inside their namespace, and
 * two "guests" (namespaces plugged into each host's bridge by a veth, as a tap would be) get their
 * addresses from their host's dnsmasq by DHCP (busybox udhcpc) and reach each other across the
 * VXLAN segment only (the hosts share nothing but the underlay). A third namespace, "outside",
 * reachable only from host 1 and with no route to the overlay, answers a guest only through NAT.
 * Everything each host's data plane created is gone after it closes.
 */
class OverlayDataPlaneTest {
    private static final int VNI = 4242;
    private static final String CIDR = "10.77.0.0/24";
    private static final String MAC_A = "52:54:00:77:00:0a";
    private static final String MAC_B = "52:54:00:77:00:0b";

    @TempDir
    Path dir;

    private NetnsHosts netns;
    private String host1;
    private String host2;
    private String guestA;
    private String guestB;
    private String outside;
    private OverlayNetworks node1;
    private OverlayNetworks node2;

    @BeforeEach
    void hosts() throws Exception {
        // dnsmasq reads its leases as nobody: the test's state dir must let others through, as /var/lib/kubevmm does.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root: network namespaces and devices");
        for (String tool : new String[]{"dnsmasq", "nft", "busybox"}) {
            assumeTrue(HostCommands.host().tryRun("sh", "-c", "command -v " + tool).ok(), tool + " is not installed");
        }
        netns = new NetnsHosts();
        host1 = netns.create("h1");
        host2 = netns.create("h2");
        guestA = netns.create("ga");
        guestB = netns.create("gb");
        outside = netns.create("out");
        netns.link(host1, "under0", "10.99.0.1/24", host2, "under0", "10.99.0.2/24");
        netns.link(host1, "wan0", "10.98.0.1/24", outside, "wan0", "10.98.0.2/24");
    }

    @AfterEach
    void cleanUp() {
        try {
            if (node1 != null) {
                node1.close();
            }
            if (node2 != null) {
                node2.close();
            }
        } finally {
            if (netns != null) {
                netns.close();
            }
        }
    }

    private static VmConfig.Overlay attachment(String ip, String mac) {
        return new VmConfig.Overlay("default", VNI, CIDR, ip, mac);
    }

    @Test
    void guestsOnTwoHostsGetTheirAddressesByDhcpAndPingAcrossVxlan() throws Exception {
        Path state1 = Files.createDirectories(dir.resolve("node1"));
        Path state2 = Files.createDirectories(dir.resolve("node2"));
        node1 = new OverlayNetworks(netns.in(host1), new NetnsHosts.VethPorts(host1, Map.of("kvtapa", guestA, "kvtapz", outside)), state1.resolve("network"), "10.99.0.1");
        node2 = new OverlayNetworks(netns.in(host2), new NetnsHosts.VethPorts(host2, Map.of("kvtapb", guestB)), state2.resolve("network"), "10.99.0.2");

        node1.attach("kvtapa", attachment("10.77.0.11", MAC_A));
        node2.attach("kvtapb", attachment("10.77.0.12", MAC_B));
        node1.remotes(Map.of(VNI, new Remotes(Map.of(MAC_B, "10.99.0.2"), Set.of("10.99.0.2"))));
        node2.remotes(Map.of(VNI, new Remotes(Map.of(MAC_A, "10.99.0.1"), Set.of("10.99.0.1"))));

        assertThat(netns.in(host1).run("bridge", "fdb", "show", "dev", "kvvx4242"))
                .as("guest B's MAC goes to host 2 over VXLAN; broadcasts too")
                .contains(MAC_B + " dst 10.99.0.2").contains("00:00:00:00:00:00 dst 10.99.0.2");
        assertThat(netns.in(host1).run("ip", "-d", "link", "show", "dev", "kvvx4242"))
                .contains("vxlan id 4242").contains("local 10.99.0.1").contains("dstport 4789").contains("nolearning")
                .contains("master kvbr4242");

        Path script = dhcpScript();
        bootGuest(guestA, MAC_A, script);
        bootGuest(guestB, MAC_B, script);
        assertThat(netns.in(guestA).run("ip", "-4", "-o", "addr", "show", "dev", "eth0")).as("guest A's lease from host 1")
                .contains("inet 10.77.0.11/24");
        assertThat(netns.in(guestB).run("ip", "-4", "-o", "addr", "show", "dev", "eth0")).as("guest B's lease from host 2")
                .contains("inet 10.77.0.12/24");

        assertThat(ping(guestB, "10.77.0.11")).as("B reaches A across the VXLAN segment").isTrue();
        assertThat(ping(guestA, "10.77.0.12")).as("A reaches B").isTrue();
        assertThat(ping(guestA, "10.77.0.1")).as("A reaches its gateway on host 1").isTrue();
        assertThat(netns.in(guestB).run("ip", "neigh", "show", "10.77.0.1")).as("one gateway MAC on every node")
                .contains("02:6b:76:00:10:92");

        // "outside" knows no route to 10.77.0.0/24: only host 1's masquerade gets the answer back.
        assertThat(ping(guestA, "10.98.0.2")).as("A reaches a server outside the overlay through NAT on host 1").isTrue();
        assertThat(netns.in(host1).run("nft", "list", "table", "inet", "kubevmm"))
                .contains("ip saddr 10.77.0.0/24 oifname != \"kvbr4242\" masquerade");

        // Guest B "migrates" its MAC to host 1's view elsewhere: the forwarding entry follows.
        node1.remotes(Map.of(VNI, new Remotes(Map.of(MAC_B, "10.99.0.3"), Set.of("10.99.0.3"))));
        String moved = netns.in(host1).run("bridge", "fdb", "show", "dev", "kvvx4242");
        assertThat(moved).contains(MAC_B + " dst 10.99.0.3").contains("00:00:00:00:00:00 dst 10.99.0.3")
                .doesNotContain("dst 10.99.0.2");
        node1.remotes(Map.of());
        assertThat(netns.in(host1).run("bridge", "fdb", "show", "dev", "kvvx4242")).doesNotContain(" dst ");

        long dnsmasq1 = dnsmasqPid(state1.resolve("network"));
        node1.detach("kvtapa");
        assertNothingLeft(host1, dnsmasq1, state1.resolve("network"));
        long dnsmasq2 = dnsmasqPid(state2.resolve("network"));
        node2.close();
        assertNothingLeft(host2, dnsmasq2, state2.resolve("network"));
    }

    @Test
    void aLeaseAddedLaterIsServedAfterTheReload() throws Exception {
        node1 = new OverlayNetworks(netns.in(host1), new NetnsHosts.VethPorts(host1, Map.of("kvtapa", guestA, "kvtapz", outside)), dir.resolve("network"), "10.99.0.1");
        node1.attach("kvtapz", attachment("10.77.0.99", "52:54:00:77:00:99"));
        // A second guest port on the running segment: dnsmasq learns its lease from the SIGHUP, and serves it.
        node1.attach("kvtapa", attachment("10.77.0.11", MAC_A));
        bootGuest(guestA, MAC_A, dhcpScript());
        assertThat(netns.in(guestA).run("ip", "-4", "-o", "addr", "show", "dev", "eth0")).contains("inet 10.77.0.11/24");
        Path hosts = dir.resolve("network").resolve("kvbr4242").resolve("dhcp-hosts");
        assertThat(Files.readString(hosts)).contains(MAC_A + ",10.77.0.11,infinite").contains("52:54:00:77:00:99,10.77.0.99,infinite");
        String log = Files.readString(dir.resolve("network").resolve("kvbr4242").resolve("dnsmasq.log"));
        assertThat(log).contains("read " + hosts).contains("DHCPACK(kvbr4242) 10.77.0.11 " + MAC_A);
    }

    @Test
    void aStoppingNodeRuntimeKeepsTheNetworkOfGuestsThatRunAndTheNextOneTakesItOver() throws Exception {
        Path state = dir.resolve("network");
        node1 = new OverlayNetworks(netns.in(host1), new NetnsHosts.VethPorts(host1, Map.of("kvtapa", guestA, "kvtapz", outside)),
                state, "10.99.0.1");
        node1.attach("kvtapa", attachment("10.77.0.11", MAC_A));
        node1.attach("kvtapz", attachment("10.77.0.99", "52:54:00:77:00:99"));
        node1.remotes(Map.of(VNI, new Remotes(Map.of(MAC_B, "10.99.0.2"), Set.of("10.99.0.2"))));
        bootGuest(guestA, MAC_A, dhcpScript());
        long dnsmasq = dnsmasqPid(state);

        // Guest A still runs when the node runtime stops; the guest behind kvtapz is gone.
        node1.shutdown("kvtapa"::equals);
        node1 = null;
        HostCommands h = netns.in(host1);
        assertThat(ProcessHandle.of(dnsmasq).map(ProcessHandle::isAlive).orElse(false)).as("dnsmasq ends with its node runtime").isFalse();
        assertThat(h.run("ip", "-o", "link", "show")).contains("kvbr4242").contains("kvvx4242").contains("kvtapa").doesNotContain("kvtapz");
        assertThat(h.run("bridge", "fdb", "show", "dev", "kvvx4242")).contains(MAC_B + " dst 10.99.0.2");
        assertThat(h.run("nft", "list", "tables")).contains("inet kubevmm");
        assertThat(ping(guestA, "10.77.0.1")).as("the running guest keeps its network meanwhile").isTrue();

        // A tap of a guest the next runtime never sees (its QEMU ended while no runtime ran).
        h.run("ip", "tuntap", "add", "dev", "kvtapdead", "mode", "tap");
        h.run("ip", "link", "set", "dev", "kvtapdead", "master", "kvbr4242");

        // The next node runtime adopts guest A: the same segment, its entries kept until it knows the remotes.
        node1 = new OverlayNetworks(netns.in(host1), new NetnsHosts.VethPorts(host1, Map.of("kvtapa", guestA)), state, "10.99.0.1");
        node1.attach("kvtapa", attachment("10.77.0.11", MAC_A));
        assertThat(h.run("bridge", "fdb", "show", "dev", "kvvx4242")).contains(MAC_B + " dst 10.99.0.2");
        assertThat(ping(guestA, "10.77.0.1")).isTrue();
        long next = dnsmasqPid(state);
        node1.detach("kvtapa");
        assertNothingLeft(host1, next, state);
    }

    @Test
    void aGuestThatChangedNetworksLeavesItsOldSegment() {
        node1 = new OverlayNetworks(netns.in(host1), new NetnsHosts.VethPorts(host1, Map.of("kvtapa", guestA)), dir.resolve("network"), "10.99.0.1");
        node1.attach("kvtapa", attachment("10.77.0.11", MAC_A));
        node1.attach("kvtapa", new VmConfig.Overlay("other", 4343, "10.66.0.0/24", "10.66.0.5", MAC_A));
        String links = netns.in(host1).run("ip", "-o", "link", "show");
        assertThat(links).doesNotContain("kvbr4242").contains("kvbr4343").contains("kvtapa");
        assertThat(netns.in(host1).run("ip", "-o", "link", "show", "master", "kvbr4343")).contains("kvtapa");
        assertThat(node1.segments()).extracting(Segment::vni).containsExactly(4343);
    }

    @Test
    void refusesAStateDirDnsmasqCannotRead() throws Exception {
        Path locked = Files.createDirectories(dir.resolve("locked"));
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("rwx------"));
        node1 = new OverlayNetworks(netns.in(host1), new NetnsHosts.VethPorts(host1, Map.of("kvtapa", guestA)),
                locked.resolve("network"), "10.99.0.1");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> node1.attach("kvtapa", attachment("10.77.0.11", MAC_A)))
                .hasMessageContaining("chmod o+x " + locked);
        assertThat(netns.in(host1).run("ip", "-o", "link", "show")).as("nothing half made stays").doesNotContain("kvbr").doesNotContain("kvvx");
        assertThat(netns.in(host1).run("nft", "list", "tables")).doesNotContain("kubevmm");
    }

    @Test
    void refusesAnAddressOutsideTheRangeAndAForeignCidrOnTheSameVni() {
        node1 = new OverlayNetworks(netns.in(host1), new NetnsHosts.VethPorts(host1, Map.of("kvtapa", guestA, "kvtapz", outside)), dir.resolve("network"), "10.99.0.1");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> node1.attach("kvtapa", attachment("10.78.0.5", MAC_A)))
                .isInstanceOf(NetworkException.class).hasMessageContaining("not a guest address of 10.77.0.0/24");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> node1.attach("kvtapa", attachment("10.77.0.1", MAC_A)))
                .hasMessageContaining("gateway 10.77.0.1");
        node1.attach("kvtapa", attachment("10.77.0.11", MAC_A));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> node1.attach("kvtapb",
                        new VmConfig.Overlay("other", VNI, "10.66.0.0/24", "10.66.0.5", MAC_B)))
                .hasMessageContaining("vni 4242 is 10.77.0.0/24 on this node");
        assertThat(netns.in(host1).tryRun("ip", "link", "show", "dev", "kvtapb").ok()).isFalse();
    }

    private Path dhcpScript() throws Exception {
        Path script = dir.resolve("udhcpc.script");
        Files.writeString(script, """
                #!/bin/sh
                # busybox udhcpc: $ip, $mask (prefix bits), $router of the lease
                case "$1" in
                  bound|renew) ip addr flush dev "$interface"; ip addr add "$ip/$mask" dev "$interface"
                               [ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface" ;;
                esac
                exit 0
                """);
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }

    private void bootGuest(String guest, String mac, Path script) {
        HostCommands g = netns.in(guest);
        g.run("ip", "link", "set", "dev", "eth0", "address", mac, "mtu", Integer.toString(Segment.MTU), "up");
        HostCommands.Result r = g.tryRun(java.util.List.of("busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-f", "-t", "10", "-T", "1",
                "-s", script.toString()), null);
        assertThat(r.ok()).as("udhcpc in %s: %s %s", guest, r.stdout(), r.stderr()).isTrue();
    }

    private boolean ping(String from, String to) {
        return netns.in(from).tryRun("busybox", "ping", "-c", "3", "-W", "2", to).ok();
    }

    private static long dnsmasqPid(Path network) throws Exception {
        return Long.parseLong(Files.readString(network.resolve("kvbr4242").resolve("dnsmasq.pid")).strip());
    }

    private void assertNothingLeft(String host, long dnsmasq, Path network) throws Exception {
        HostCommands h = netns.in(host);
        assertThat(h.run("ip", "-o", "link", "show")).doesNotContain("kvbr").doesNotContain("kvvx").doesNotContain("kvtap");
        assertThat(h.run("nft", "list", "tables")).doesNotContain("kubevmm");
        assertThat(h.run("sysctl", "-n", "net.ipv4.ip_forward").strip()).as("forwarding as it was before").isEqualTo(netns.forwardingAtStart(host));
        assertThat(ProcessHandle.of(dnsmasq).map(ProcessHandle::isAlive).orElse(false)).as("dnsmasq %d ended", dnsmasq).isFalse();
        assertThat(network).doesNotExist();
    }
}
