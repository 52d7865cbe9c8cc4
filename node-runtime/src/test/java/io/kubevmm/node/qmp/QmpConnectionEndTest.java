package io.kubevmm.node.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class QmpConnectionEndTest extends ConnectedToFakeQemu {
    @Test
    void pendingCommandsFailWhenQemuClosesTheConnection() throws Exception {
        CompletableFuture<JsonNode> migrate = client.executeAsync("migrate", Map.of("uri", "tcp:127.0.0.1:4444"));
        qemu.nextCommand();

        qemu.disconnect();

        assertThatThrownBy(() -> migrate.get(5, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause()
                .isInstanceOf(QmpException.class)
                .hasMessage("QEMU closed the QMP connection while 'migrate' was pending");
        await().atMost(Duration.ofSeconds(5)).until(() -> !client.isOpen());
    }

    @Test
    void commandsAfterTheEndFailAtOnceSayingTheConnectionIsClosed() {
        qemu.disconnect();
        await().atMost(Duration.ofSeconds(5)).until(() -> !client.isOpen());
        long start = System.nanoTime();

        assertThatThrownBy(() -> client.execute("query-status"))
                .isInstanceOf(QmpException.class)
                .hasMessage("QMP command 'query-status' not sent: the QMP connection to " + dir.resolve("qmp.sock")
                        + " is closed (QEMU closed it)");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
    }

    @Test
    void closeListenersRunOnceAfterTheLastEvent() throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        client.addEventListener(e -> seen.add(e.name()));
        client.addCloseListener(() -> seen.add("closed"));

        qemu.event("SHUTDOWN", "{\"guest\": true, \"reason\": \"guest-shutdown\"}");
        qemu.disconnect();
        await().atMost(Duration.ofSeconds(5)).until(() -> seen.contains("closed"));
        client.close();
        Thread.sleep(100);

        assertThat(seen).containsExactly("SHUTDOWN", "closed");
    }

    @Test
    void aCloseListenerAddedAfterTheEndStillRunsOnce() {
        qemu.disconnect();
        await().atMost(Duration.ofSeconds(5)).until(() -> !client.isOpen());
        AtomicInteger calls = new AtomicInteger();

        client.addCloseListener(calls::incrementAndGet);

        await().atMost(Duration.ofSeconds(5)).until(() -> calls.get() == 1);
    }

    @Test
    void closeFailsPendingCommandsAndRunsCloseListenersOnce() throws Exception {
        AtomicInteger closes = new AtomicInteger();
        client.addCloseListener(closes::incrementAndGet);
        CompletableFuture<JsonNode> status = client.executeAsync("query-status", Map.of());
        qemu.nextCommand();

        client.close();
        client.close();

        assertThatThrownBy(() -> status.get(5, TimeUnit.SECONDS))
                .cause()
                .hasMessage("the QMP connection to " + dir.resolve("qmp.sock")
                        + " ended while 'query-status' was pending: the client closed it");
        assertThat(client.isOpen()).isFalse();
        await().atMost(Duration.ofSeconds(5)).until(() -> closes.get() == 1);
        Thread.sleep(100);
        assertThat(closes).hasValue(1);
    }

    @Test
    void invalidJsonFromQemuEndsTheConnectionWithTheParsersReason() throws Exception {
        CompletableFuture<JsonNode> status = client.executeAsync("query-status", Map.of());
        qemu.nextCommand();

        qemu.send("{\"return\": {]\r\n");

        assertThatThrownBy(() -> status.get(5, TimeUnit.SECONDS))
                .cause()
                .hasMessageStartingWith("the QMP connection to " + dir.resolve("qmp.sock")
                        + " ended while 'query-status' was pending: QEMU sent invalid JSON: ");
        assertThat(client.isOpen()).isFalse();
    }

    @Test
    void qemuDyingHalfwayThroughAMessageCountsAsQemuClosingTheConnection() throws Exception {
        CompletableFuture<JsonNode> status = client.executeAsync("query-status", Map.of());
        qemu.nextCommand();

        qemu.send("{\"return\": {\"status\": \"runn");
        qemu.disconnect();

        assertThatThrownBy(() -> status.get(5, TimeUnit.SECONDS))
                .cause()
                .hasMessage("QEMU closed the QMP connection while 'query-status' was pending");
    }

    @Test
    void quitSucceedsWhenQemuHangsUpBeforeReplying() throws Exception {
        qemu.on("quit", (server, command) -> server.disconnect());
        AtomicInteger closes = new AtomicInteger();
        client.addCloseListener(closes::incrementAndGet);

        JsonNode result = client.execute("quit");

        assertThat(result.isEmpty()).isTrue();
        await().atMost(Duration.ofSeconds(5)).until(() -> closes.get() == 1);
        assertThat(client.isOpen()).isFalse();
    }

    @Test
    void quitSucceedsWhenQemuRepliesAndThenHangsUp() throws Exception {
        qemu.on("quit", (server, command) -> {
            server.event("SHUTDOWN", "{\"guest\": false, \"reason\": \"host-qmp-quit\"}");
            server.reply(command, "{}");
            server.disconnect();
        });

        assertThat(client.execute("quit").isEmpty()).isTrue();
        await().atMost(Duration.ofSeconds(5)).until(() -> !client.isOpen());
    }

    @Test
    void otherCommandsPendingWhenQemuQuitsStillFail() throws Exception {
        CompletableFuture<JsonNode> migration = client.executeAsync("query-migrate", Map.of());
        qemu.nextCommand();
        qemu.on("quit", (server, command) -> server.disconnect());

        client.execute("quit");

        assertThatThrownBy(() -> migration.get(5, TimeUnit.SECONDS))
                .cause()
                .hasMessage("QEMU closed the QMP connection while 'query-migrate' was pending");
    }
}
