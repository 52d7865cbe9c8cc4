package io.kubevmm.node.network;

import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.engine.VmmInstance;
import io.kubevmm.node.engine.qemu.QemuEngine;
import io.kubevmm.node.testing.GuestConsole;
import io.kubevmm.node.testing.TestGuest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Two real QEMU guests on two "hosts" (network namespaces joined only by an underlay veth), each
 * host's QEMU and data plane inside its namespace, exactly as a node runtime runs them
 * ({@link OverlayEngine} around {@link QemuEngine}): each guest's virtio-net NIC is a tap on its
 * host's bridge, gets its address from its host's dnsmasq (busybox udhcpc in the guest), and
 * pings the other guest across VXLAN; the host reaches its own guest's TCP echo through the
 * gateway. When the emulators end, their taps go, and with the last one everything else.
 *
 * <p>The guest is the test guest with a different {@code /init} appended as a second initramfs
 * archive (the kernel lets later archives replace files): DHCP, an echo server on port 7, and a
 * ping loop to {@code kubevmm.peer=}, each reported on the console.
 */
class OverlayGuestsWithQemuTest {
    private static final int VNI = 4343;
    private static final String CIDR = "10.88.0.0/24";
    private static final String IP_A = "10.88.0.11";
    private static final String IP_B = "10.88.0.12";
    private static final String MAC_A = "52:54:00:88:00:0a";
    private static final String MAC_B = "52:54:00:88:00:0b";

    @TempDir
    Path dir;

    private NetnsHosts netns;
    private String host1;
    private String host2;
    private final List<VmmInstance> started = new ArrayList<>();
    private final List<OverlayNetworks> networks = new ArrayList<>();

    @BeforeEach
    void hosts() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root: network namespaces, taps");
        for (String tool : new String[]{"dnsmasq", "nft", "busybox", "cpio"}) {
            assumeTrue(HostCommands.host().tryRun("sh", "-c", "command -v " + tool).ok(), tool + " is not installed");
        }
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        netns = new NetnsHosts();
        host1 = netns.create("q1");
        host2 = netns.create("q2");
        netns.link(host1, "under0", "10.99.0.1/24", host2, "under0", "10.99.0.2/24");
    }

    @AfterEach
    void cleanUp() {
        try {
            started.forEach(VmmInstance::destroy);
            networks.forEach(OverlayNetworks::close);
        } finally {
            if (netns != null) {
                netns.close();
            }
        }
    }

    @Test
    void twoGuestsOnTwoHostsGetTheirLeasesAndPingEachOtherAcrossVxlan() throws Exception {
        Path initrd = overlayInitrd();
        OverlayEngine engine1 = engineIn(host1, "10.99.0.1");
        OverlayEngine engine2 = engineIn(host2, "10.99.0.2");
        engine1.networks().remotes(Map.of(VNI, new Remotes(Map.of(MAC_B, "10.99.0.2"), Set.of("10.99.0.2"))));
        engine2.networks().remotes(Map.of(VNI, new Remotes(Map.of(MAC_A, "10.99.0.1"), Set.of("10.99.0.1"))));

        VmConfig a = guest("a", initrd, IP_A, MAC_A, IP_B);
        VmConfig b = guest("b", initrd, IP_B, MAC_B, IP_A);
        VmmInstance vmA = start(engine1, a);
        VmmInstance vmB = start(engine2, b);
        assertThat(netns.in(host1).run("ip", "-o", "link", "show", "dev", a.tapDevice())).as("A's tap, on host 1's bridge")
                .contains("master kvbr4343");

        GuestConsole consoleA = new GuestConsole(a.consoleLog());
        GuestConsole consoleB = new GuestConsole(b.consoleLog());
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250))
                .until(() -> consoleA.text().contains("overlay peer " + IP_B + " reachable")
                        && consoleB.text().contains("overlay peer " + IP_A + " reachable"));
        assertThat(consoleA.text()).contains("overlay lease").contains("inet " + IP_A + "/24");
        assertThat(consoleB.text()).contains("overlay lease").contains("inet " + IP_B + "/24");

        await().atMost(Duration.ofSeconds(30)).until(() -> consoleA.text().contains("echo listening on 7"));
        HostCommands.Result echo = netns.in(host1).tryRun(List.of("busybox", "nc", "-w", "3", IP_A, "7"), "across the bridge\n");
        assertThat(echo.stdout()).as("host 1 reaches its guest's TCP echo through the gateway: %s", echo.stderr())
                .contains("across the bridge");

        vmA.destroy();
        started.remove(vmA);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertNothingLeft(host1));
        assertThat(engine1.networks().segments()).isEmpty();
        assertThat(ping(host2, IP_B)).as("host 2's guest is untouched").isTrue();

        vmB.destroy();
        started.remove(vmB);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertNothingLeft(host2));
    }

    private boolean ping(String from, String to) {
        return netns.in(from).tryRun("busybox", "ping", "-c", "2", "-W", "2", to).ok();
    }

    private void assertNothingLeft(String host) {
        HostCommands h = netns.in(host);
        assertThat(h.run("ip", "-o", "link", "show")).doesNotContain("kvbr").doesNotContain("kvvx").doesNotContain("kvtap");
        assertThat(h.run("nft", "list", "tables")).doesNotContain("kubevmm");
        assertThat(h.run("sysctl", "-n", "net.ipv4.ip_forward").strip()).as("forwarding as it was before").isEqualTo(netns.forwardingAtStart(host));
        assertThat(dir.resolve("state-" + host)).doesNotExist();
    }


    /**
     * Guest A migrates from host 1 to host 3 while guest B on host 2 pings it every 100 ms: the
     * target's tap is on its bridge before the incoming QEMU starts, the target announces the
     * guest (announce-self), the forwarding entries move as the VMIs' nodeName would move them,
     * and the pings go on with A's address and MAC unchanged. Prints the pings lost and the longest gap.
     */
    @Test
    void aGuestMigratingToAnotherHostKeepsItsAddressAndThePingsGoOn() throws Exception {
        String host3 = netns.create("q3");
        // The underlay becomes a switch (a bridge in a namespace of its own) all three hosts hang on.
        String sw = netns.create("sw");
        HostCommands s = netns.in(sw);
        s.run("ip", "link", "add", "sw0", "type", "bridge");
        s.run("ip", "link", "set", "sw0", "up");
        netns.in(host1).run("ip", "link", "del", "under0");
        int i = 1;
        for (String host : List.of(host1, host2, host3)) {
            HostCommands.host().run("ip", "-n", host, "link", "add", "under0", "type", "veth", "peer", "name", "port" + i, "netns", sw);
            netns.in(host).run("ip", "addr", "add", "10.99.0." + i + "/24", "dev", "under0");
            netns.in(host).run("ip", "link", "set", "under0", "up");
            s.run("ip", "link", "set", "port" + i, "master", "sw0", "up");
            i++;
        }
        Path initrd = overlayInitrd();
        OverlayEngine engine1 = engineIn(host1, "10.99.0.1");
        OverlayEngine engine2 = engineIn(host2, "10.99.0.2");
        OverlayEngine engine3 = engineIn(host3, "10.99.0.3");
        // Before: A on host 1, B on host 2.
        engine1.networks().remotes(Map.of(VNI, new Remotes(Map.of(MAC_B, "10.99.0.2"), Set.of("10.99.0.2"))));
        engine2.networks().remotes(Map.of(VNI, new Remotes(Map.of(MAC_A, "10.99.0.1"), Set.of("10.99.0.1"))));
        engine3.networks().remotes(Map.of(VNI, new Remotes(Map.of(MAC_A, "10.99.0.1", MAC_B, "10.99.0.2"), Set.of("10.99.0.1", "10.99.0.2"))));

        VmConfig a = guest("a", "vm-a", initrd, IP_A, MAC_A, "");
        VmConfig b = guest("b", "vm-b", initrd, IP_B, MAC_B, "kubevmm.pingstream=" + IP_A);
        VmmInstance source = start(engine1, a);
        start(engine2, b);
        GuestConsole consoleB = new GuestConsole(b.consoleLog());
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250)).until(() -> pongs(consoleB).size() >= 20);

        VmConfig target = guest("a", "vm-a-on-host3", initrd, IP_A, MAC_A, "");
        VmmInstance arriving = engine3.createIncoming(target);
        started.add(arriving);
        assertThat(netns.in(host3).run("ip", "-o", "link", "show", "dev", target.tapDevice()))
                .as("the target's tap is on its bridge before the state arrives").contains("master kvbr4343");
        Path stream = target.stateDir().resolve("incoming.sock");
        arriving.incoming().listen(stream, false);
        int before = pongs(consoleB).getLast();
        source.outgoing().start(stream, new io.kubevmm.node.engine.MigrationTuning(false, false, 300, 0));
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(20))
                .until(() -> source.outgoing().progress(0).status(),
                        st -> st == io.kubevmm.node.engine.MigrationStatus.COMPLETED || st == io.kubevmm.node.engine.MigrationStatus.FAILED);
        assertThat(source.outgoing().progress(0).status()).isEqualTo(io.kubevmm.node.engine.MigrationStatus.COMPLETED);
        assertThat(arriving.incoming().announce()).as("announce-self on the target").isTrue();
        // What OverlayPeers does once A's VMI names host 3: every node's entries follow.
        engine2.networks().remotes(Map.of(VNI, new Remotes(Map.of(MAC_A, "10.99.0.3"), Set.of("10.99.0.3"))));
        engine3.networks().remotes(Map.of(VNI, new Remotes(Map.of(MAC_B, "10.99.0.2"), Set.of("10.99.0.2"))));
        engine1.networks().remotes(Map.of(VNI, new Remotes(Map.of(MAC_A, "10.99.0.3", MAC_B, "10.99.0.2"), Set.of("10.99.0.2", "10.99.0.3"))));
        source.destroy();
        started.remove(source);

        await().atMost(Duration.ofSeconds(30)).until(() -> pongs(consoleB).getLast() > before + 50);
        List<Integer> seqs = pongs(consoleB);
        int first = seqs.getFirst();
        int last = seqs.getLast();
        int lost = (last - first + 1) - (int) seqs.stream().distinct().count();
        int longestGap = 0;
        for (int k = 1; k < seqs.size(); k++) {
            longestGap = Math.max(longestGap, seqs.get(k) - seqs.get(k - 1) - 1);
        }
        System.out.printf("overlay migration: %d of %d pings (every 100 ms) lost, longest gap %d pings (~%d ms)%n",
                lost, last - first + 1, longestGap, (longestGap + 1) * 100);
        assertThat(netns.in(host2).run("bridge", "fdb", "show", "dev", "kvvx4343")).contains(MAC_A + " dst 10.99.0.3");
        assertThat(ping(host3, IP_A)).as("A answers on host 3 at its old address").isTrue();
        assertThat(longestGap).as("the pings went on after the switchover").isLessThan(50);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertNothingLeft(host1));
    }

    /** The ping sequence numbers guest B saw answered, in order. */
    private static List<Integer> pongs(GuestConsole console) {
        List<Integer> seqs = new ArrayList<>();
        var m = java.util.regex.Pattern.compile("bytes from " + java.util.regex.Pattern.quote(IP_A) + ": seq=(\\d+)").matcher(console.text());
        while (m.find()) {
            seqs.add(Integer.parseInt(m.group(1)));
        }
        return seqs;
    }

    private VmmInstance start(OverlayEngine engine, VmConfig config) throws Exception {
        VmmInstance vm = engine.create(config);
        started.add(vm);
        vm.resume();
        return vm;
    }

    /** The node runtime's engine for a host: QEMU started inside its namespace, the data plane there too. */
    private OverlayEngine engineIn(String host, String underlay) throws Exception {
        Path qemu = dir.resolve("qemu-in-" + host);
        Files.writeString(qemu, "#!/bin/sh\nexec ip netns exec " + host + " qemu-system-x86_64 \"$@\"\n");
        Files.setPosixFilePermissions(qemu, PosixFilePermissions.fromString("rwxr-xr-x"));
        String choice = System.getenv().getOrDefault("KUBEVMM_TEST_ACCELERATOR", "auto").toUpperCase();
        QemuEngine engine = new QemuEngine(qemu.toString(), "qemu-img", QemuEngine.AcceleratorChoice.valueOf(choice));
        HostCommands commands = netns.in(host);
        OverlayNetworks net = new OverlayNetworks(commands, new GuestPorts.Taps(commands), dir.resolve("state-" + host), underlay);
        networks.add(net);
        return new OverlayEngine(engine, net);
    }

    private VmConfig guest(String name, Path initrd, String ip, String mac, String peer) {
        return guest(name, "vm-" + name, initrd, ip, mac, "kubevmm.peer=" + peer);
    }

    private VmConfig guest(String name, String stateDir, Path initrd, String ip, String mac, String args) {
        Path images = TestGuest.imageDir();
        return new VmConfig("test_overlay_" + name, dir.resolve(stateDir), VmConfig.Profile.MICROVM, 1, 128L << 20,
                images.resolve("vmlinuz"), initrd, "console=ttyS0 quiet kubevmm.workload=idle " + args,
                List.of(), VmConfig.NetworkMode.NONE, mac).onOverlay(new VmConfig.Overlay("default", VNI, CIDR, ip, mac));
    }

    /** guest/out/initrd.img followed by a gzip'd cpio archive with the overlay /init and udhcpc's script. */
    private Path overlayInitrd() throws Exception {
        Path stage = Files.createDirectories(dir.resolve("initrd-stage/etc"));
        Path root = stage.getParent();
        Files.writeString(root.resolve("init"), """
                #!/bin/sh
                mount -t proc proc /proc
                mount -t sysfs sysfs /sys
                mount -t devtmpfs devtmpfs /dev
                exec </dev/console >/dev/console 2>&1
                while read -r module; do insmod "/lib/modules/$module.ko" 2>/dev/null; done < /etc/modules.order
                echo 4 > /proc/sys/kernel/printk
                for arg in $(cat /proc/cmdline); do
                  case "$arg" in
                    kubevmm.peer=*) peer=${arg#kubevmm.peer=} ;;
                    kubevmm.pingstream=*) stream=${arg#kubevmm.pingstream=} ;;
                  esac
                done
                ip link set lo up
                ip link set eth0 up
                if udhcpc -i eth0 -s /etc/udhcpc.script -q -n -t 30 -T 1 >/dev/null 2>&1; then
                  echo "overlay lease $(ip -4 -o addr show dev eth0)"
                else
                  echo "overlay no lease"
                fi
                nc -ll -p 7 -e /bin/cat &
                echo "echo listening on 7"
                if [ -n "${peer:-}" ]; then
                  (while ! ping -c 1 -W 1 "$peer" >/dev/null 2>&1; do sleep 1; done; echo "overlay peer $peer reachable") &
                fi
                if [ -n "${stream:-}" ]; then
                  (while ! ping -c 1 -W 1 "$stream" >/dev/null 2>&1; do sleep 1; done; ping -i 0.1 "$stream") &
                fi
                exec /bin/kubevmm-workload
                """);
        Files.writeString(stage.resolve("udhcpc.script"), """
                #!/bin/sh
                case "$1" in
                  bound|renew) ip addr flush dev "$interface"; ip addr add "$ip/$mask" dev "$interface"
                               [ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface" ;;
                esac
                exit 0
                """);
        Files.setPosixFilePermissions(root.resolve("init"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(stage.resolve("udhcpc.script"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Process cpio = new ProcessBuilder("cpio", "-o", "-H", "newc", "-R", "0:0", "--quiet").directory(root.toFile()).start();
        try (var names = cpio.getOutputStream()) {
            names.write("init\netc\netc/udhcpc.script\n".getBytes());
        }
        byte[] archive = cpio.getInputStream().readAllBytes();
        assertThat(cpio.waitFor()).as("cpio: %s", new String(cpio.getErrorStream().readAllBytes())).isZero();
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (var out = new GZIPOutputStream(gz)) {
            out.write(archive);
        }
        Path initrd = dir.resolve("initrd-overlay.img");
        Files.write(initrd, Files.readAllBytes(TestGuest.imageDir().resolve("initrd.img")));
        Files.write(initrd, gz.toByteArray(), java.nio.file.StandardOpenOption.APPEND);
        return initrd;
    }
}
