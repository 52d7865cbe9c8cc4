package io.kubevmm.e2e;

import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.kubevmm.api.v1alpha1.NetworkMode;
import io.kubevmm.api.v1alpha1.NetworkSpec;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VMMigrationSpec.Strategy;
import io.kubevmm.api.v1alpha1.VMMigrationStatus.Phase;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VmPhase;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Overlay networking across separate hosts, as a user relies on it: two VMs on different nodes
 * reach each other at the addresses the operator gave them, one keeps its address, its MAC and a
 * TCP stream through a live migration, a guest reaches a server outside the overlay through NAT,
 * a Service's EndpointSlice lists a VM, and a deleted VM's address goes to the next one.
 */
class NetworkSystemTest extends ClusterTestBase {
    static final Pattern STREAM = Pattern.compile("^stream (\\d+)", Pattern.MULTILINE);
    static final Pattern LOST = Pattern.compile("^pingfast lost (\\d+) after (\\d+)", Pattern.MULTILINE);

    @Override
    String clusterDirName() {
        return "network";
    }

    VirtualMachine overlayVm(String name, String cmdline, String node) {
        VirtualMachine vm = vm(name, "256Mi", "idle");
        vm.getSpec().getBoot().setCmdline(vm.getSpec().getBoot().getCmdline() + " kubevmm.net=dhcp " + cmdline);
        NetworkSpec network = new NetworkSpec();
        network.setMode(NetworkMode.overlay);
        vm.getSpec().setNetwork(network);
        vm.getMetadata().setLabels(Map.of("app", name));
        if (node != null) {
            vm.getSpec().setNodeSelector(Map.of("kubevmm.io/node", node));
        }
        return vm;
    }

    int lastStream(String name) throws Exception {
        Matcher m = STREAM.matcher(console(name));
        int last = -1;
        while (m.find()) {
            last = Integer.parseInt(m.group(1));
        }
        return last;
    }

    /** Runs of 10 ms pings lost, as the guest reported them: {lost, after seq}. */
    List<int[]> pingLosses(String name) throws Exception {
        return LOST.matcher(console(name)).results().map(r -> new int[] {Integer.parseInt(r.group(1)), Integer.parseInt(r.group(2))}).toList();
    }

    /** A TCP connection from this machine to the guest's echo server (port 7): what comes back is what was sent. */
    static boolean echoFromHost(String ip, String line) throws IOException {
        try (java.net.Socket socket = new java.net.Socket()) {
            socket.connect(new java.net.InetSocketAddress(ip, 7), 5000);
            socket.setSoTimeout(5000);
            byte[] sent = (line + "\n").getBytes(StandardCharsets.UTF_8);
            socket.getOutputStream().write(sent);
            socket.getOutputStream().flush();
            byte[] back = socket.getInputStream().readNBytes(sent.length);
            return java.util.Arrays.equals(sent, back);
        }
    }

    @Test
    void vmsOnTwoNodesReachEachOtherAndAStreamSurvivesAMigration() throws Exception {
        assumeLocalCluster();
        Assumptions.assumeTrue(cluster.separateHosts(), "overlay traffic between nodes needs separate hosts (root)");
        client.resource(overlayVm("net-a", "kubevmm.echo=7 kubevmm.ping=" + cluster.hostAddress(), null)).create();
        VirtualMachine a = awaitPhase("net-a", VmPhase.Running, true);
        String ipA = a.getStatus().getNetwork().getIpAddress();
        String macA = a.getStatus().getNetwork().getMacAddress();
        assertThat(a.getStatus().getNetwork().getNetworkName()).isEqualTo("default");
        await().atMost(BOOT).ignoreExceptions().until(() -> console("net-a").contains("net eth0 address " + ipA + "/"));
        assertThat(console("net-a")).contains("net eth0 present " + macA);
        // The machine's underlay address is outside the overlay: reached through the node's NAT.
        await().atMost(BOOT).ignoreExceptions().until(() -> console("net-a").contains("ping " + cluster.hostAddress() + " ok"));
        // This machine joined the overlay: it reaches the guest by its overlay address, as curl would.
        assertThat(cluster.hostOverlayAddress()).as("the machine's address on VMNetwork default").isPresent();
        await().atMost(BOOT).ignoreExceptions().until(() -> echoFromHost(ipA, "from the host before"));
        String nodeA = a.getStatus().getNodeName();
        String other = nodeA.equals(LocalCluster.nodeName(0)) ? LocalCluster.nodeName(1) : LocalCluster.nodeName(0);

        client.resource(new ServiceBuilder().withNewMetadata().withName("echo").withNamespace("default").endMetadata()
                .withNewSpec().withSelector(Map.of("app", "net-a")).addNewPort().withName("echo").withPort(7).endPort().endSpec().build())
                .create();
        await().atMost(BOOT).untilAsserted(() -> assertThat(client.discovery().v1().endpointSlices().inNamespace("default")
                .withLabel("kubernetes.io/service-name", "echo").list().getItems())
                .flatExtracting(EndpointSlice::getEndpoints).flatExtracting(e -> e.getAddresses()).containsExactly(ipA));

        client.resource(overlayVm("net-b", "kubevmm.ping=" + ipA + " kubevmm.pingfast=" + ipA + " kubevmm.stream=" + ipA + ":7", other))
                .create();
        VirtualMachine b = awaitPhase("net-b", VmPhase.Running, true);
        assertThat(b.getStatus().getNodeName()).as("B on the other node").isEqualTo(other);
        String ipB = b.getStatus().getNetwork().getIpAddress();
        assertThat(ipB).isNotEqualTo(ipA);
        await().atMost(BOOT).ignoreExceptions().until(() -> console("net-b").contains("ping " + ipA + " ok"));
        await().atMost(BOOT).ignoreExceptions().until(() -> lastStream("net-b") >= 40);
        int lostBefore = pingLosses("net-b").stream().mapToInt(l -> l[0]).sum();

        migration("net-a-1", "net-a", s -> { s.setStrategy(Strategy.PreCopy); s.setTargetNode(other); });
        VMMigration done = awaitOutcome("net-a-1");
        assertThat(done.getStatus().getPhase()).as("outcome: %s", done.getStatus().getFailureReason()).isEqualTo(Phase.Succeeded);
        int after = lastStream("net-b");
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> lastStream("net-b") >= after + 60);
        assertThat(console("net-b")).as("the stream went on without reconnecting").doesNotContain("stream closed");
        List<int[]> losses = pingLosses("net-b");
        int lost = losses.stream().mapToInt(l -> l[0]).sum() - lostBefore;
        int longest = losses.stream().mapToInt(l -> l[0]).max().orElse(0);
        System.out.printf("overlay migration %s -> %s: downtime %s ms; pings every 10 ms from a VM on the target node: %d lost,"
                        + " longest run %d (~%d ms without replies)%n", nodeA, other, done.getStatus().getDowntimeMillis(),
                lost, longest, (longest + 1) * 10);
        assertThat(echoFromHost(ipA, "from the host after the migration")).as("the guest, now on %s, reached from this machine", other)
                .isTrue();
        VirtualMachine moved = get("net-a");
        assertThat(moved.getStatus().getNodeName()).isEqualTo(other);
        assertThat(moved.getStatus().getNetwork().getIpAddress()).as("address kept through the migration").isEqualTo(ipA);
        assertThat(moved.getStatus().getNetwork().getMacAddress()).as("MAC kept through the migration").isEqualTo(macA);

        // A deleted VM's address is given to the next VM.
        deleteAndAwaitGone("net-b");
        client.resource(overlayVm("net-c", "", null)).create();
        VirtualMachine c = awaitPhase("net-c", VmPhase.Running, true);
        assertThat(c.getStatus().getNetwork().getIpAddress()).as("net-b's released address").isEqualTo(ipB);

        client.services().inNamespace("default").withName("echo").delete();
        deleteAndAwaitGone("net-c");
        deleteAndAwaitGone("net-a");
    }
}
