package io.kubevmm.cli;

import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.NetworkMode;
import io.kubevmm.api.v1alpha1.NetworkSpec;
import io.kubevmm.api.v1alpha1.VMNode;
import io.kubevmm.api.v1alpha1.VMNodeStatus;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceSpec;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** {@code kubevmm port-forward}: against a fake node runtime in front of a real TCP echo server. */
class PortForwardCommandTest extends MockClusterTest {
    FakePortForwardNode node;

    @BeforeEach
    void startNode() throws Exception {
        node = new FakePortForwardNode();
        env.put("KUBEVMM_NODE_TOKEN", FakePortForwardNode.TOKEN);
    }

    @AfterEach
    void stopNode() throws Exception {
        node.close();
    }

    void placeDemo(NetworkMode mode, InstancePhase phase) {
        createVm("demo");
        VirtualMachineInstance vmi = new VirtualMachineInstance();
        vmi.getMetadata().setName("demo");
        vmi.getMetadata().setNamespace("default");
        VirtualMachineInstanceSpec spec = new VirtualMachineInstanceSpec();
        NetworkSpec network = new NetworkSpec();
        network.setMode(mode);
        spec.setNetwork(network);
        vmi.setSpec(spec);
        var vmis = client.resources(VirtualMachineInstance.class).inNamespace("default");
        vmis.resource(vmi).create();
        VirtualMachineInstanceStatus status = new VirtualMachineInstanceStatus();
        status.setNodeName("node-a");
        status.setPhase(phase);
        vmi.setStatus(status);
        vmis.resource(vmi).updateStatus();

        VMNode vmNode = new VMNode();
        vmNode.getMetadata().setName("node-a");
        client.resources(VMNode.class).resource(vmNode).create();
        VMNodeStatus nodeStatus = new VMNodeStatus();
        nodeStatus.setEndpoint(node.endpoint());
        vmNode.setStatus(nodeStatus);
        client.resources(VMNode.class).resource(vmNode).updateStatus();
    }

    static String roundTrip(Socket socket, String text) throws Exception {
        try (socket) {
            socket.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
            socket.shutdownOutput(); // the half-close travels as "eof"; the echo answers, then ends its half
            socket.setSoTimeout(10_000);
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void portMappingsAreLocalColonGuestOrOnePortOrAnyLocalPort() {
        assertThat(PortMapping.parse("8080:80")).isEqualTo(new PortMapping(8080, 80));
        assertThat(PortMapping.parse("22")).isEqualTo(new PortMapping(22, 22));
        assertThat(PortMapping.parse(":80")).isEqualTo(new PortMapping(0, 80));
        assertThat(PortMapping.guestOnly("22")).isEqualTo(22);
        for (String bad : new String[] {"0:80", "80:0", "x", "8080:", "70000", "-1"}) {
            assertThatThrownBy(() -> PortMapping.parse(bad)).as(bad).isInstanceOf(CliException.class)
                    .hasMessageContaining("port \"" + bad + "\"").hasMessageContaining("1-65535");
        }
    }

    @Test
    void targetsAreVmSlashNameOrANameWithAUserForSsh() {
        assertThat(VmTarget.parse("vm/deb", false)).isEqualTo(new VmTarget(null, "deb"));
        assertThat(VmTarget.parse("virtualmachine/deb", false)).isEqualTo(new VmTarget(null, "deb"));
        assertThat(VmTarget.parse("deb", false)).isEqualTo(new VmTarget(null, "deb"));
        assertThat(VmTarget.parse("debian@vm/deb", true)).isEqualTo(new VmTarget("debian", "deb"));
        assertThatThrownBy(() -> VmTarget.parse("pod/deb", true)).hasMessageContaining("write vm/NAME");
        assertThatThrownBy(() -> VmTarget.parse("debian@vm/deb", false)).hasMessageContaining("no USER@");
        assertThatThrownBy(() -> VmTarget.parse("@vm/deb", true)).hasMessageContaining("nothing before @");
        assertThatThrownBy(() -> VmTarget.parse("vm/Deb_1", true)).hasMessageContaining("invalid virtualmachine name");
    }

    @Test
    void eachLocalConnectionIsCarriedToTheGuestPortAndEndsWithBothHalves() throws Exception {
        placeDemo(NetworkMode.user, InstancePhase.Running);
        StringWriter out = new StringWriter();
        Run[] run = new Run[1];
        Thread command = Thread.ofPlatform().start(() -> run[0] = kubevmm(out, "port-forward", "vm/demo", ":" + node.guestPort));
        Pattern forwarding = Pattern.compile("Forwarding from 127\\.0\\.0\\.1:(\\d+) -> 7");
        await().atMost(Duration.ofSeconds(20)).until(() -> forwarding.matcher(out.toString()).find());
        Matcher m = forwarding.matcher(out.toString());
        assertThat(m.find()).isTrue();
        int local = Integer.parseInt(m.group(1));

        // Two connections, one after the other and one at the same time: each its own session.
        assertThat(roundTrip(new Socket(InetAddress.getLoopbackAddress(), local), "first\n")).isEqualTo("first\n");
        Socket a = new Socket(InetAddress.getLoopbackAddress(), local);
        Socket b = new Socket(InetAddress.getLoopbackAddress(), local);
        assertThat(roundTrip(b, "second\n")).isEqualTo("second\n");
        assertThat(roundTrip(a, "x".repeat(300_000))).hasSize(300_000);
        assertThat(out.toString()).contains("Handling connection for " + local);

        command.interrupt();
        command.join(10_000);
        assertThat(command.isAlive()).isFalse();
    }

    @Test
    void theTunnelCarriesAStreamBothWaysAsStdioDoes() throws Exception {
        placeDemo(NetworkMode.user, InstancePhase.Running);
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        AtomicBoolean outputEnded = new AtomicBoolean();
        byte[] sent = "SSH-2.0-test\r\nsome bytes\n".getBytes(StandardCharsets.UTF_8);
        GuestTunnel tunnel = new GuestTunnel("node-a", node.endpoint(), FakePortForwardNode.TOKEN);

        GuestTunnel.Ending ending = tunnel.relay("default", "demo", node.guestPort, new GuestTunnel.LocalEnd() {
            final InputStream in = new ByteArrayInputStream(sent);
            @Override public InputStream in() { return in; }
            @Override public OutputStream out() { return received; }
            @Override public void endOutput() { outputEnded.set(true); }
            @Override public void close() { }
        });

        assertThat(ending.clean()).as(ending.toString()).isTrue();
        assertThat(outputEnded).isTrue();
        assertThat(received.toByteArray()).isEqualTo(sent);
    }

    @Test
    void refusalsSayWhatTheNodeSaidAndTheExitCodeIsOne() {
        placeDemo(NetworkMode.user, InstancePhase.Running);
        Run wrongPort = kubevmm("port-forward", "--stdio", "vm/demo", "23");
        assertThat(wrongPort.code()).isEqualTo(1);
        assertThat(wrongPort.err()).contains("error: cannot forward port 23 of VM default/demo: refused");

        env.put("KUBEVMM_NODE_TOKEN", "wrong");
        Run wrongToken = kubevmm("port-forward", "--stdio", "vm/demo", "7");
        assertThat(wrongToken.code()).isEqualTo(1);
        assertThat(wrongToken.err()).contains("refused the token (HTTP 401)").contains("KUBEVMM_NODE_TOKEN");
    }

    @Test
    void aVmWithoutNetworkOrNotRunningOrMissingIsRefusedBeforeAnyConnection() {
        Run missing = kubevmm("port-forward", "vm/nosuch", "8080:80");
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err()).contains("nosuch").contains("not found");

        placeDemo(NetworkMode.none, InstancePhase.Running);
        Run isolated = kubevmm("port-forward", "vm/demo", "8080:80");
        assertThat(isolated.code()).isEqualTo(1);
        assertThat(isolated.err()).contains("spec.network.mode none").contains("set spec.network.mode: user");
        Run ssh = kubevmm("ssh", "debian@vm/demo");
        assertThat(ssh.code()).isEqualTo(1);
        assertThat(ssh.err()).contains("spec.network.mode none");
    }
}
