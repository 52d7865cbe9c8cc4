package io.kubevmm.node.agent;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The guest-agent protocol against a fake agent over a real unix socket. */
class GuestAgentClientTest {
    @TempDir
    Path dir;

    @Test
    void theSyncSkipsWhatAnEarlierClientLeftAndCommandsGetTheirOwnReplies() throws Exception {
        try (FakeGuestAgent fake = new FakeGuestAgent(dir.resolve("qga.sock"));
             GuestAgentClient client = GuestAgentClient.connect(fake.socket, Duration.ofSeconds(2))) {
            assertThat(client.execute("guest-get-host-name", Map.of(), Duration.ofSeconds(2)).path("host-name").asText()).isEqualTo("deb");
            assertThat(client.execute("guest-fsfreeze-status", Map.of(), Duration.ofSeconds(2)).asText()).isEqualTo("thawed");
            assertThat(fake.commands).startsWith("guest-sync-delimited");
        }
    }

    @Test
    void anErrorReplyNamesTheCommandAndTheAgentsWords() throws Exception {
        try (FakeGuestAgent fake = new FakeGuestAgent(dir.resolve("qga.sock"));
             GuestAgentClient client = GuestAgentClient.connect(fake.socket, Duration.ofSeconds(2))) {
            assertThatThrownBy(() -> client.execute("guest-exec", Map.of(), Duration.ofSeconds(2)))
                    .isInstanceOf(AgentException.class)
                    .hasMessageContaining("'guest-exec' failed: CommandNotFound")
                    .satisfies(e -> assertThat(((AgentException) e).noAnswer()).isFalse());
        }
    }

    @Test
    void anAgentThatDoesNotAnswerFailsTheConnectWithinItsTimeout() throws Exception {
        try (FakeGuestAgent fake = new FakeGuestAgent(dir.resolve("qga.sock"))) {
            fake.silent = true;
            long start = System.nanoTime();
            assertThatThrownBy(() -> GuestAgentClient.connect(fake.socket, Duration.ofMillis(300)))
                    .isInstanceOf(AgentException.class).hasMessageContaining("did not answer 'guest-sync-delimited' within 300 ms")
                    .satisfies(e -> assertThat(((AgentException) e).noAnswer()).isTrue());
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
        }
    }

    @Test
    void guestShutdownExpectsNoReply() throws Exception {
        try (FakeGuestAgent fake = new FakeGuestAgent(dir.resolve("qga.sock"));
             GuestAgentClient client = GuestAgentClient.connect(fake.socket, Duration.ofSeconds(2))) {
            client.executeWithoutReply("guest-shutdown", Map.of("mode", "powerdown"), Duration.ofMillis(200));
            assertThat(fake.commands).contains("guest-shutdown");
        }
    }

    @Test
    void aClosedChannelFailsTheWaitingCommandAtOnce() throws Exception {
        try (FakeGuestAgent fake = new FakeGuestAgent(dir.resolve("qga.sock"));
             GuestAgentClient client = GuestAgentClient.connect(fake.socket, Duration.ofSeconds(2))) {
            fake.silent = true;
            Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(200);
                    fake.dropConnection();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            long start = System.nanoTime();
            assertThatThrownBy(() -> client.execute("guest-get-osinfo", Map.of(), Duration.ofSeconds(10)))
                    .hasMessageContaining("closed before 'guest-get-osinfo' was answered");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
            assertThat(client.isOpen()).isFalse();
        }
    }
}
