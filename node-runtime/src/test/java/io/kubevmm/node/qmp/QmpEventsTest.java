package io.kubevmm.node.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class QmpEventsTest extends ConnectedToFakeQemu {
    @Test
    void eventsArriveInOrderWhileCommandsAreInFlight() throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        client.addEventListener(e -> seen.add(e.name() + ":" + e.data().path("n").asInt()));
        List<CompletableFuture<JsonNode>> replies = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            replies.add(client.executeAsync("query-migrate", Map.of()));
        }

        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            JsonNode command = qemu.nextCommand();
            for (int n = 0; n < 20; n++) {
                int number = i * 20 + n;
                qemu.event("MIGRATION_PASS", "{\"n\": " + number + "}");
                expected.add("MIGRATION_PASS:" + number);
            }
            qemu.reply(command, "{\"status\": \"active\"}");
        }

        for (CompletableFuture<JsonNode> reply : replies) {
            assertThat(reply.get(5, TimeUnit.SECONDS).path("status").asText()).isEqualTo("active");
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> seen.size() == expected.size());
        assertThat(seen).containsExactlyElementsOf(expected);
    }

    @Test
    void listenersRunOnOneDispatcherThreadNeverTheCallers() {
        Set<Thread> threads = ConcurrentHashMap.newKeySet();
        client.addEventListener(e -> threads.add(Thread.currentThread()));

        for (int i = 0; i < 10; i++) {
            qemu.event("RESUME", null);
        }

        await().atMost(Duration.ofSeconds(5)).until(() -> !threads.isEmpty());
        await().pollDelay(Duration.ofMillis(200)).until(() -> true);
        assertThat(threads).hasSize(1).doesNotContain(Thread.currentThread());
        assertThat(threads.iterator().next().getName()).startsWith("qmp-events");
    }

    @Test
    void aThrowingListenerDoesNotStopOtherListenersOrLaterEvents() {
        List<String> seen = new CopyOnWriteArrayList<>();
        client.addEventListener(e -> {
            throw new IllegalStateException("listener bug on " + e.name());
        });
        client.addEventListener(e -> seen.add(e.name()));

        qemu.event("STOP", null);
        qemu.event("RESUME", null);

        await().atMost(Duration.ofSeconds(5)).until(() -> seen.size() == 2);
        assertThat(seen).containsExactly("STOP", "RESUME");
        assertThat(client.isOpen()).isTrue();
    }

    @Test
    void aListenerMayIssueCommandsWhileHandlingAnEvent() {
        qemu.answer("query-status", "{\"status\": \"paused\"}");
        List<String> statusOnStop = new CopyOnWriteArrayList<>();
        client.addEventListener(e -> {
            try {
                statusOnStop.add(client.execute("query-status").path("status").asText());
            } catch (QmpException ex) {
                statusOnStop.add(ex.getMessage());
            }
        });

        qemu.event("STOP", null);

        await().atMost(Duration.ofSeconds(5)).until(() -> !statusOnStop.isEmpty());
        assertThat(statusOnStop).containsExactly("paused");
    }

    @Test
    void anEventCarriesQemusDataAndTimestampAndAnEmptyObjectWhenQemuSendsNoData() {
        List<QmpEvent> seen = new CopyOnWriteArrayList<>();
        client.addEventListener(seen::add);

        qemu.event("SHUTDOWN", "{\"guest\": false, \"reason\": \"host-qmp-quit\"}");
        qemu.event("STOP", null);

        await().atMost(Duration.ofSeconds(5)).until(() -> seen.size() == 2);
        assertThat(seen.get(0).data().path("reason").asText()).isEqualTo("host-qmp-quit");
        assertThat(seen.get(0).timestamp()).isEqualTo(Instant.ofEpochSecond(1_700_000_000, 250_000_000));
        assertThat(seen.get(1).data().isObject()).isTrue();
        assertThat(seen.get(1).data().isEmpty()).isTrue();
    }
}
