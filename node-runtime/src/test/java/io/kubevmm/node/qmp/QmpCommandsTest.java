package io.kubevmm.node.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class QmpCommandsTest extends ConnectedToFakeQemu {
    @Test
    void aCommandReturnsQemusReturnMember() throws Exception {
        qemu.answer("query-status", "{\"status\": \"running\", \"singlestep\": false, \"running\": true}");

        JsonNode status = client.execute("query-status");

        assertThat(status.path("status").asText()).isEqualTo("running");
        assertThat(status.path("running").asBoolean()).isTrue();
    }

    @Test
    void argumentsTravelAsTheCommandsArgumentsMember() throws Exception {
        qemu.answer("migrate-set-parameters", "{}").answer("stop", "{}");

        client.execute("migrate-set-parameters", Map.of("downtime-limit", 300, "multifd-channels", 4));
        client.execute("stop");

        JsonNode withArguments = qemu.received().get(1);
        assertThat(withArguments.path("arguments").path("downtime-limit").asInt()).isEqualTo(300);
        assertThat(withArguments.path("arguments").path("multifd-channels").asInt()).isEqualTo(4);
        assertThat(qemu.received().get(2).has("arguments")).as("a command without arguments sends none").isFalse();
    }

    @Test
    void anErrorReplyNamesTheCommandAndQemusReason() {
        qemu.fail("migrate", "GenericError", "There's a migration process in progress");

        assertThatThrownBy(() -> client.execute("migrate", Map.of("uri", "tcp:10.0.0.2:4444")))
                .isInstanceOf(QmpException.class)
                .hasMessage("QMP command 'migrate' failed: GenericError: There's a migration process in progress")
                .satisfies(e -> {
                    assertThat(((QmpException) e).command()).isEqualTo("migrate");
                    assertThat(((QmpException) e).errorClass()).isEqualTo("GenericError");
                });
        assertThat(client.isOpen()).as("an error reply is an answer, not a broken connection").isTrue();
    }

    @Test
    void concurrentCommandsGetTheirOwnRepliesWhenQemuAnswersOutOfOrder() throws Exception {
        int callers = 8;
        ExecutorService threads = Executors.newFixedThreadPool(callers);
        List<Future<JsonNode>> replies = new ArrayList<>();
        for (int i = 0; i < callers; i++) {
            String device = "disk" + i;
            replies.add(threads.submit(() -> client.execute("query-block-jobs", Map.of("device", device))));
        }
        List<JsonNode> commands = new ArrayList<>();
        for (int i = 0; i < callers; i++) {
            commands.add(qemu.nextCommand());
        }
        for (JsonNode command : commands.reversed()) {
            qemu.reply(command, "{\"device\": " + command.path("arguments").get("device") + "}");
        }

        for (int i = 0; i < callers; i++) {
            assertThat(replies.get(i).get(5, TimeUnit.SECONDS).path("device").asText()).isEqualTo("disk" + i);
        }
        threads.shutdown();
    }

    @Test
    void aCommandWithoutAReplyTimesOutAndItsLateReplyIsDiscarded() throws Exception {
        assertThatThrownBy(() -> client.execute("query-status", Map.of(), Duration.ofMillis(200)))
                .isInstanceOf(QmpException.class)
                .hasMessage("QMP command 'query-status' timed out after 200ms")
                .satisfies(e -> assertThat(((QmpException) e).errorClass()).isNull());
        JsonNode timedOut = qemu.nextCommand();

        CompletableFuture<JsonNode> next = client.executeAsync("query-status", Map.of());
        JsonNode nextCommand = qemu.nextCommand();
        qemu.reply(timedOut, "{\"status\": \"late\"}");
        qemu.reply(nextCommand, "{\"status\": \"running\"}");

        assertThat(next.get(5, TimeUnit.SECONDS).path("status").asText()).isEqualTo("running");
        assertThat(client.isOpen()).isTrue();
    }

    @Test
    void timeoutsAreWordedInSecondsWhenWhole() {
        assertThatThrownBy(() -> client.execute("query-status", Map.of(), Duration.ofSeconds(1)))
                .hasMessage("QMP command 'query-status' timed out after 1s");
    }

    @Test
    void executeAsyncCompletesWithTheResult() throws Exception {
        qemu.answer("query-version", "{\"qemu\": {\"major\": 7, \"minor\": 2, \"micro\": 22}, \"package\": \"fake\"}");

        JsonNode version = client.executeAsync("query-version", null).get(5, TimeUnit.SECONDS);

        assertThat(version.path("qemu").path("minor").asInt()).isEqualTo(2);
    }

    @Test
    void aCallbackOnAnAsyncReplyMayIssueAnotherCommandSynchronously() throws Exception {
        qemu.answer("stop", "{}").answer("query-status", "{\"status\": \"paused\"}");

        CompletableFuture<String> statusAfterStop = client.executeAsync("stop", Map.of()).thenApply(ignored -> {
            try {
                return client.execute("query-status").path("status").asText();
            } catch (QmpException e) {
                throw new IllegalStateException(e);
            }
        });

        assertThat(statusAfterStop.get(5, TimeUnit.SECONDS)).isEqualTo("paused");
    }

    @Test
    void anInterruptedCallerGivesUpWithoutBreakingTheConnection() throws Exception {
        qemu.answer("query-status", "{\"status\": \"running\"}");
        Thread.currentThread().interrupt();

        assertThatThrownBy(() -> client.execute("query-migrate"))
                .isInstanceOf(QmpException.class)
                .hasMessage("interrupted while waiting for QMP command 'query-migrate'");
        assertThat(Thread.interrupted()).as("the interrupt is kept for the caller").isTrue();

        assertThat(client.execute("query-status").path("status").asText()).isEqualTo("running");
    }

    @Test
    void messagesSplitAcrossWritesOrSharingOneWriteAreBothRead() throws Exception {
        CompletableFuture<JsonNode> first = client.executeAsync("query-status", Map.of());
        CompletableFuture<JsonNode> second = client.executeAsync("query-name", Map.of());
        CompletableFuture<JsonNode> third = client.executeAsync("query-uuid", Map.of());
        long id1 = qemu.nextCommand().get("id").asLong();
        long id2 = qemu.nextCommand().get("id").asLong();
        long id3 = qemu.nextCommand().get("id").asLong();

        qemu.send("{\"return\": {\"status\": \"run");
        Thread.sleep(50);
        qemu.send("ning\"}, \"id\": " + id1 + "}\r\n{\"return\": {\"name\": \"vm1\"}, \"id\": " + id2 + "}"
                + "{\"return\": {\"UUID\": \"u\"}, \"id\": " + id3 + "}");

        assertThat(first.get(5, TimeUnit.SECONDS).path("status").asText()).isEqualTo("running");
        assertThat(second.get(5, TimeUnit.SECONDS).path("name").asText()).isEqualTo("vm1");
        assertThat(third.get(5, TimeUnit.SECONDS).path("UUID").asText()).isEqualTo("u");
    }

    @Test
    void anErrorWithoutAnIdDoesNotDisturbPendingCommands() throws Exception {
        CompletableFuture<JsonNode> status = client.executeAsync("query-status", Map.of());
        JsonNode command = qemu.nextCommand();

        qemu.send("{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, invalid keyword 'x'\"}}\r\n");
        qemu.reply(command, "{\"status\": \"running\"}");

        assertThat(status.get(5, TimeUnit.SECONDS).path("status").asText()).isEqualTo("running");
    }
}
