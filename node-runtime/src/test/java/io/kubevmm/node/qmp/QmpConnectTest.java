package io.kubevmm.node.qmp;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class QmpConnectTest {
    @TempDir
    Path dir;

    @Test
    void connectReadsQemusVersionFromTheGreetingAndNegotiatesCapabilities() throws Exception {
        try (FakeQmpServer qemu = FakeQmpServer.start(dir.resolve("qmp.sock"));
             QmpClient client = QmpClient.connect(dir.resolve("qmp.sock"), Duration.ofSeconds(5))) {
            assertThat(client.version()).isEqualTo(new QemuVersion(7, 2, 22));
            assertThat(client.isOpen()).isTrue();
            assertThat(qemu.receivedCommands()).containsExactly("qmp_capabilities");
        }
    }

    @Test
    void connectRetriesUntilQemuCreatesTheSocket() throws Exception {
        Path socket = dir.resolve("qmp.sock");
        CompletableFuture<FakeQmpServer> lateQemu = CompletableFuture.supplyAsync(() -> {
            try {
                return FakeQmpServer.start(socket);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, CompletableFuture.delayedExecutor(400, TimeUnit.MILLISECONDS));

        try (QmpClient client = QmpClient.connect(socket, Duration.ofSeconds(5));
             FakeQmpServer qemu = lateQemu.join()) {
            assertThat(client.version().toString()).isEqualTo("7.2.22");
            assertThat(qemu.receivedCommands()).containsExactly("qmp_capabilities");
        }
    }

    @Test
    void connectGivesUpAfterItsTimeoutNamingTheSocket() {
        Path socket = dir.resolve("never.sock");
        long start = System.nanoTime();

        assertThatThrownBy(() -> QmpClient.connect(socket, Duration.ofMillis(300)))
                .isInstanceOf(QmpException.class)
                .hasMessageStartingWith("cannot connect to QMP socket " + socket + " within 300ms: ")
                .satisfies(e -> assertThat(((QmpException) e).errorClass()).isNull());
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(300), Duration.ofSeconds(3));
    }

    @Test
    void connectFailsClearlyWhenQemuAcceptsButSendsNoGreeting() throws Exception {
        // QEMU serves one client per QMP socket; a second one is accepted by the kernel and then ignored.
        try (FakeQmpServer busyQemu = FakeQmpServer.startSilent(dir.resolve("qmp.sock"))) {
            assertThatThrownBy(() -> QmpClient.connect(dir.resolve("qmp.sock"), Duration.ofMillis(1500)))
                    .isInstanceOf(QmpException.class)
                    .hasMessageContaining("sent no greeting within 1500ms")
                    .hasMessageContaining("is another one connected?");
        }
    }

    @Test
    void connectReportsQemuRefusingTheCapabilitiesHandshake() throws Exception {
        try (FakeQmpServer qemu = FakeQmpServer.start(dir.resolve("qmp.sock"))) {
            qemu.fail("qmp_capabilities", "CommandNotFound", "Capabilities negotiation is already complete");

            assertThatThrownBy(() -> QmpClient.connect(dir.resolve("qmp.sock"), Duration.ofSeconds(5)))
                    .isInstanceOf(QmpException.class)
                    .hasMessage("QMP command 'qmp_capabilities' failed: CommandNotFound: "
                            + "Capabilities negotiation is already complete");
        }
    }

    @Test
    void aSocketPathTooLongForTheKernelIsRejectedAtOnce() {
        Path socket = dir.resolve("x".repeat(120) + ".sock");

        assertThatThrownBy(() -> QmpClient.connect(socket, Duration.ofSeconds(10)))
                .isInstanceOf(QmpException.class)
                .hasMessageContaining("is longer than the 107 bytes a unix socket address holds");
    }
}
