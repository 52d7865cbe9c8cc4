package io.kubevmm.node.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The client against a real QEMU with no guest at all: {@code -machine none -S}. */
class QmpClientWithQemuTest {
    private static final String QEMU = "qemu-system-x86_64";

    @TempDir
    Path dir;
    Path socket;
    Process qemu;
    QmpClient client;

    @BeforeAll
    static void requireQemu() {
        assumeTrue(onPath(QEMU), QEMU + " is not on PATH");
    }

    @BeforeEach
    void startQemu() throws Exception {
        socket = dir.resolve("qmp.sock");
        qemu = new ProcessBuilder(QEMU, "-machine", "none", "-nodefaults", "-display", "none", "-S",
                "-qmp", "unix:" + socket + ",server=on,wait=off")
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("qemu.log").toFile())
                .start();
        // Connecting right after start exercises the retry: QEMU has not created the socket yet.
        client = QmpClient.connect(socket, Duration.ofSeconds(10));
    }

    @AfterEach
    void stopQemu() throws Exception {
        if (client != null) {
            client.close();
        }
        qemu.destroyForcibly();
        qemu.waitFor(10, TimeUnit.SECONDS);
    }

    @Test
    void aPassedSocketIsQemusUnderItsNameAndOutlivesOurCopy() throws Exception {
        assumeTrue(FdPassing.available(), () -> "descriptor passing unavailable: " + FdPassing.unavailableReason());
        try (ServerSocketChannel listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
             SocketChannel ours = SocketChannel.open(listener.getLocalAddress());
             SocketChannel peer = listener.accept()) {
            List<CompletableFuture<JsonNode>> around = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                around.add(client.executeAsync("query-status", Map.of()));
            }
            client.passFd("probe", ours);
            for (int i = 0; i < 20; i++) {
                around.add(client.executeAsync("query-status", Map.of()));
            }
            ours.close();
            peer.configureBlocking(false);
            ByteBuffer buffer = ByteBuffer.allocate(16);
            assertThat(peer.read(buffer)).as("QEMU's copy keeps the connection open after ours is closed").isZero();

            client.execute("closefd", Map.of("fdname", "probe"));
            await().atMost(Duration.ofSeconds(5)).until(() -> peer.read(buffer) < 0);
            assertThatThrownBy(() -> client.execute("closefd", Map.of("fdname", "probe")))
                    .isInstanceOf(QmpException.class).hasMessageContaining("probe");
            for (CompletableFuture<JsonNode> reply : around) {
                assertThat(reply.get(10, TimeUnit.SECONDS).path("status").asText()).isEqualTo("prelaunch");
            }
        }
    }

    @Test
    void passingOnAnEndedConnectionFailsAtOnce() throws Exception {
        assumeTrue(FdPassing.available(), () -> "descriptor passing unavailable: " + FdPassing.unavailableReason());
        try (ServerSocketChannel listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
             SocketChannel ours = SocketChannel.open(listener.getLocalAddress())) {
            client.close();
            assertThatThrownBy(() -> client.passFd("late", ours)).isInstanceOf(QmpException.class).hasMessageContaining("closed");
        }
    }

    @Test
    void queryVersionMatchesTheGreeting() throws Exception {
        JsonNode version = client.execute("query-version").path("qemu");

        assertThat(new QemuVersion(version.path("major").asInt(), version.path("minor").asInt(), version.path("micro").asInt()))
                .isEqualTo(client.version());
        assertThat(client.version().isAtLeast(7, 2)).isTrue();
    }

    @Test
    void aMachineStartedWithMinusSIsInPrelaunch() throws Exception {
        JsonNode status = client.execute("query-status");

        assertThat(status.path("status").asText()).isEqualTo("prelaunch");
        assertThat(status.path("running").asBoolean()).isFalse();
    }

    @Test
    void anUnknownCommandFailsNamingIt() {
        assertThatThrownBy(() -> client.execute("no-such-command"))
                .isInstanceOf(QmpException.class)
                .hasMessage("QMP command 'no-such-command' failed: CommandNotFound: The command no-such-command has not been found")
                .satisfies(e -> assertThat(((QmpException) e).errorClass()).isEqualTo("CommandNotFound"));
    }

    @Test
    void anUnexpectedArgumentFailsWithQemusReason() {
        assertThatThrownBy(() -> client.execute("query-status", Map.of("bogus", 1)))
                .isInstanceOf(QmpException.class)
                .hasMessage("QMP command 'query-status' failed: GenericError: Parameter 'bogus' is unexpected");
    }

    @Test
    void contAndStopProduceResumeAndStopEvents() throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        client.addEventListener(e -> events.add(e.name()));

        client.execute("cont");
        assertThat(client.execute("query-status").path("status").asText()).isEqualTo("running");
        client.execute("stop");
        assertThat(client.execute("query-status").path("status").asText()).isEqualTo("paused");

        await().atMost(Duration.ofSeconds(5)).until(() -> events.size() >= 2);
        assertThat(events).containsExactly("RESUME", "STOP");
    }

    @Test
    void concurrentCommandsFromManyThreadsAllGetTheirReplies() throws Exception {
        List<CompletableFuture<String>> replies = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            String command = i % 2 == 0 ? "query-status" : "query-name";
            replies.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return command + ":" + client.execute(command).toString();
                } catch (QmpException e) {
                    throw new IllegalStateException(e);
                }
            }));
        }

        for (CompletableFuture<String> reply : replies) {
            assertThat(reply.get(10, TimeUnit.SECONDS)).matches("query-status:.*prelaunch.*|query-name:\\{}");
        }
    }

    @Test
    void quitEndsTheProcessAndFiresTheCloseListener() throws Exception {
        AtomicInteger closes = new AtomicInteger();
        List<String> events = new CopyOnWriteArrayList<>();
        client.addEventListener(e -> events.add(e.name() + " " + e.data().path("reason").asText()));
        client.addCloseListener(closes::incrementAndGet);

        client.execute("quit");

        assertThat(qemu.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(qemu.exitValue()).isZero();
        await().atMost(Duration.ofSeconds(5)).until(() -> closes.get() == 1);
        assertThat(events).containsExactly("SHUTDOWN host-qmp-quit");
        assertThat(client.isOpen()).isFalse();
        assertThatThrownBy(() -> client.execute("query-status")).hasMessageContaining("is closed (QEMU closed it)");
    }

    @Test
    void killingQemuEndsTheConnectionAndFiresTheCloseListener() throws Exception {
        AtomicInteger closes = new AtomicInteger();
        client.addCloseListener(closes::incrementAndGet);

        qemu.destroyForcibly();

        await().atMost(Duration.ofSeconds(5)).until(() -> closes.get() == 1);
        assertThat(client.isOpen()).isFalse();
    }

    @Test
    void aSecondClientGetsNoGreetingWhileTheFirstIsConnected() throws Exception {
        // QEMU serves one client per QMP socket: the kernel accepts the second connection, QEMU ignores it.
        assertThatThrownBy(() -> QmpClient.connect(socket, Duration.ofMillis(1500)))
                .isInstanceOf(QmpException.class)
                .hasMessageContaining("sent no greeting");

        client.close();
        try (QmpClient second = QmpClient.connect(socket, Duration.ofSeconds(5))) {
            assertThat(second.execute("query-status").path("status").asText()).isEqualTo("prelaunch");
        }
    }

    private static boolean onPath(String binary) {
        String path = System.getenv().getOrDefault("PATH", "");
        return Stream.of(path.split(File.pathSeparator)).map(d -> Path.of(d, binary)).anyMatch(Files::isExecutable);
    }
}
