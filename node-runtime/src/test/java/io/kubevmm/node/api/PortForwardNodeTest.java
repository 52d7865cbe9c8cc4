package io.kubevmm.node.api;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubevmm.api.v1alpha1.InstanceState;
import io.kubevmm.api.v1alpha1.NetworkMode;
import io.kubevmm.api.v1alpha1.NetworkSpec;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.node.testing.RegisterCrds;
import io.kubevmm.node.testing.TestVmis;
import io.kubevmm.node.testing.Vmis;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.URL;
import java.net.http.WebSocketHandshakeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/**
 * {@code kubevmm port-forward}'s node side with a real guest: a WebSocket through the node API
 * reaches a TCP port inside a QEMU guest on user networking (the test guest's echo server), and
 * only with the node token.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true, setup = RegisterCrds.class)
class PortForwardNodeTest {
    static final Duration BOOT = Duration.ofSeconds(90);
    static final String NODE = "test-node";
    static final String TOKEN = "Bearer test-token";
    static final int ECHO_PORT = 7777;

    @Inject
    KubernetesClient client;
    TestVmis vmis;

    @BeforeEach
    void readVmis() {
        vmis = new TestVmis(client, BOOT);
    }
    @Inject
    MeterRegistry registry;
    @TestHTTPResource("/")
    URL base;

    URI portForward(String vm, String port) {
        return URI.create(base.toString().replaceFirst("^http", "ws") + "api/v1/namespaces/default/vms/" + vm + "/portforward?port=" + port);
    }

    static int handshakeStatus(Throwable failure) {
        Throwable cause = failure instanceof ExecutionException ? failure.getCause() : failure;
        assertThat(cause).isInstanceOf(WebSocketHandshakeException.class);
        return ((WebSocketHandshakeException) cause).getResponse().statusCode();
    }

    VirtualMachineInstance vmi(String name, NetworkMode mode) {
        VirtualMachineInstance vmi = Vmis.vmi(name, NODE, "128Mi", "idle", InstanceState.Running);
        vmi.getSpec().getBoot().setCmdline(vmi.getSpec().getBoot().getCmdline() + " kubevmm.echo=" + ECHO_PORT);
        NetworkSpec network = new NetworkSpec();
        network.setMode(mode);
        vmi.getSpec().setNetwork(network);
        return vmi;
    }

    /** Where the process listens for TCP (its sockets in /proc/net/tcp in state LISTEN), as hex "address:port". */
    static Set<String> listening(long pid) throws IOException {
        Set<String> inodes = new HashSet<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                try {
                    String link = Files.readSymbolicLink(fd).toString();
                    if (link.startsWith("socket:[")) {
                        inodes.add(link.substring("socket:[".length(), link.length() - 1));
                    }
                } catch (IOException closedMeanwhile) {
                    // not a socket any more
                }
            }
        }
        List<String> table = Files.readAllLines(Path.of("/proc/net/tcp"));
        Set<String> addresses = new HashSet<>();
        for (String line : table.subList(1, table.size())) {
            String[] f = line.trim().split("\\s+");
            if ("0A".equals(f[3]) && inodes.contains(f[9])) {
                addresses.add(f[1]);
            }
        }
        return addresses;
    }

    double openSessions() {
        return registry.get("kubevmm.portforward.sessions").gauge().value();
    }

    @Test
    void withoutTheTokenThereIsNoUpgrade() {
        for (String authorization : new String[] {null, "Bearer wrong"}) {
            Throwable failure = catchThrowable(() -> WebSocketTestClient.connect(portForward("any", "22"), authorization));
            assertThat(handshakeStatus(failure)).as("authorization %s", authorization).isEqualTo(401);
        }
    }

    @Test
    void aWebSocketReachesAPortInsideTheGuestAndEndsWithBothHalves() throws Exception {
        client.resource(vmi("echo", NetworkMode.user)).create();
        vmis.awaitReady("echo", BOOT);

        // The guest's nc may start listening a little after readiness.
        WebSocketTestClient[] session = new WebSocketTestClient[1];
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).until(() -> {
            WebSocketTestClient c = WebSocketTestClient.connect(portForward("echo", String.valueOf(ECHO_PORT)), TOKEN);
            c.send("ping\n");
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (!c.receivedText().contains("ping") && !c.closed.isDone() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            boolean answered = c.receivedText().contains("ping");
            if (answered) {
                session[0] = c;
            } else {
                c.ws.abort();
            }
            return answered;
        });
        WebSocketTestClient c = session[0];
        assertThat(openSessions()).isEqualTo(1.0);
        long qemu = vmis.get("echo").getStatus().getQemuPid();
        // The forward QEMU opened for the connection was taken away once slirp had accepted it.
        assertThat(listening(qemu)).as("TCP ports QEMU listens on while a session is open").isEmpty();

        // Sessions are independent; beyond the per-VM limit (2 in tests) one more is refused.
        WebSocketTestClient second = WebSocketTestClient.connect(portForward("echo", String.valueOf(ECHO_PORT)), TOKEN);
        assertThat(handshakeStatus(catchThrowable(() -> WebSocketTestClient.connect(portForward("echo", String.valueOf(ECHO_PORT)), TOKEN))))
                .isEqualTo(429);
        second.send("second\n");
        second.sendEof();
        second.eof.get(10, TimeUnit.SECONDS);
        assertThat(second.receivedText()).isEqualTo("second\n");
        assertThat(second.closed.get(10, TimeUnit.SECONDS).code()).isEqualTo(1000);

        // Half-close: our eof ends the echo's input; it answers what it had, then ends its half too.
        c.send("hello from the node API\n");
        c.sendEof();
        c.eof.get(10, TimeUnit.SECONDS);
        assertThat(c.receivedText()).isEqualTo("ping\nhello from the node API\n");
        assertThat(c.closed.get(10, TimeUnit.SECONDS)).isEqualTo(new WebSocketTestClient.Closed(1000, ""));
        await().atMost(Duration.ofSeconds(5)).until(() -> openSessions() == 0.0);
        assertThat(listening(qemu)).isEmpty();

        // Refusals are plain HTTP answers, before any upgrade.
        assertThat(handshakeStatus(catchThrowable(() -> WebSocketTestClient.connect(portForward("echo", "0"), TOKEN)))).isEqualTo(400);
        assertThat(handshakeStatus(catchThrowable(() -> WebSocketTestClient.connect(portForward("echo", "x"), TOKEN)))).isEqualTo(400);
        assertThat(handshakeStatus(catchThrowable(() -> WebSocketTestClient.connect(portForward("nosuch", "22"), TOKEN)))).isEqualTo(404);
        assertThat(handshakeStatus(catchThrowable(() -> WebSocketTestClient.connect(portForward("echo%2F..", "22"), TOKEN)))).isEqualTo(404);
        vmis.delete("echo");
    }

    @Test
    void aVmWithoutNetworkIsRefusedNamingTheField() {
        client.resource(vmi("isolated", NetworkMode.none)).create();
        vmis.awaitReady("isolated", BOOT);
        assertThat(handshakeStatus(catchThrowable(() -> WebSocketTestClient.connect(portForward("isolated", "22"), TOKEN)))).isEqualTo(409);
        vmis.delete("isolated");
    }
}
