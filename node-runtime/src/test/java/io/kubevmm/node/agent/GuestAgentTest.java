package io.kubevmm.node.agent;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The per-VM owner of the agent channel: when it connects, what it reports, how it recovers. */
class GuestAgentTest {
    private static final GuestAgent.Timeouts FAST = new GuestAgent.Timeouts(Duration.ofMillis(300), Duration.ofMillis(200),
            Duration.ofMillis(500), Duration.ofMillis(500), Duration.ofMillis(500));

    @TempDir
    Path dir;

    @Test
    void itConnectsOnlyOnceTheGuestOpensThePortAndReportsTheGuest() throws Exception {
        AtomicInteger changes = new AtomicInteger();
        try (FakeGuestAgent fake = new FakeGuestAgent(dir.resolve("qga.sock"));
             GuestAgent agent = new GuestAgent("default_deb", changes::incrementAndGet, FAST)) {
            agent.attach(fake.socket, false);
            Thread.sleep(500);
            assertThat(fake.commands).as("a guest without an agent gets no traffic").isEmpty();
            assertThat(agent.state().reason()).isEqualTo("AgentNotRunning");

            agent.guestEnd(true);
            await().atMost(Duration.ofSeconds(5)).until(() -> agent.state().info() != null);
            AgentState state = agent.state();
            assertThat(state.connected()).isTrue();
            assertThat(state.info().osName()).isEqualTo("Debian GNU/Linux 12 (bookworm)");
            assertThat(state.info().osVersion()).isEqualTo("12 (bookworm)");
            assertThat(state.info().kernelRelease()).isEqualTo("6.1.0-27-cloud-amd64");
            assertThat(state.info().hostname()).isEqualTo("deb");
            assertThat(state.info().interfaces()).singleElement().satisfies(i -> {
                assertThat(i.name()).isEqualTo("ens3");
                assertThat(i.macAddress()).isEqualTo("52:54:00:00:00:03");
                assertThat(i.ipAddresses()).containsExactly("10.0.2.15");
            });
            assertThat(changes.get()).isPositive();
        }
    }

    @Test
    void addressesAreRefreshedWhileConnected() throws Exception {
        try (FakeGuestAgent fake = new FakeGuestAgent(dir.resolve("qga.sock"));
             GuestAgent agent = new GuestAgent("default_deb", () -> { }, FAST)) {
            agent.attach(fake.socket, true);
            await().atMost(Duration.ofSeconds(5)).until(() -> agent.state().info() != null);
            fake.address = "10.0.2.16";
            await().atMost(Duration.ofSeconds(5)).until(() -> agent.state().info().interfaces().getFirst().ipAddresses().contains("10.0.2.16"));
        }
    }

    @Test
    void anAgentThatRestartsIsConnectedAgain() throws Exception {
        try (FakeGuestAgent fake = new FakeGuestAgent(dir.resolve("qga.sock"));
             GuestAgent agent = new GuestAgent("default_deb", () -> { }, FAST)) {
            agent.attach(fake.socket, true);
            await().atMost(Duration.ofSeconds(5)).until(agent::connected);
            agent.guestEnd(false); // qemu-guest-agent stopped in the guest
            fake.dropConnection();
            assertThat(agent.state().reason()).isEqualTo("AgentNotRunning");
            int before = fake.commands.size();
            agent.guestEnd(true); // and started again
            await().atMost(Duration.ofSeconds(5)).until(agent::connected);
            assertThat(fake.commands.subList(before, fake.commands.size())).startsWith("guest-sync-delimited");
        }
    }

    @Test
    void aHungAgentIsReportedAndNeverHoldsUpAShutdownLongerThanACommandTimeout() throws Exception {
        try (FakeGuestAgent fake = new FakeGuestAgent(dir.resolve("qga.sock"));
             GuestAgent agent = new GuestAgent("default_deb", () -> { }, FAST)) {
            fake.silent = true;
            agent.attach(fake.socket, true);
            await().atMost(Duration.ofSeconds(5)).until(() -> agent.state().reason().equals("AgentNotResponding"));
            assertThat(agent.state().message()).contains("does not answer");
            long start = System.nanoTime();
            assertThat(agent.shutdown()).as("not connected: the stop goes on with ACPI").isFalse();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
            assertThatThrownBy(agent::freeze).isInstanceOf(AgentException.class);
        }
    }

    @Test
    void freezeAndThawAreReportedInTheState() throws Exception {
        try (FakeGuestAgent fake = new FakeGuestAgent(dir.resolve("qga.sock"));
             GuestAgent agent = new GuestAgent("default_deb", () -> { }, FAST)) {
            agent.attach(fake.socket, true);
            await().atMost(Duration.ofSeconds(5)).until(() -> agent.state().info() != null);
            assertThat(agent.freeze()).isEqualTo(2);
            assertThat(agent.freezeStatus()).isEqualTo("frozen");
            assertThat(agent.state().frozen()).isTrue();
            assertThat(agent.thaw()).isEqualTo(2);
            assertThat(agent.state().frozen()).isFalse();
            assertThat(agent.shutdown()).isTrue();
            assertThat(fake.commands).contains("guest-shutdown");
        }
    }

    @Test
    void withoutAChannelThereIsNothingToConnectTo() {
        try (GuestAgent agent = new GuestAgent("default_micro", () -> { }, FAST)) {
            agent.attach(null, false);
            agent.guestEnd(true);
            assertThat(agent.state().reason()).isEqualTo("NoChannel");
            assertThat(agent.shutdown()).isFalse();
        }
    }

    @Test
    void fileSystemsFoundFrozenWhenItConnectsAreThawed() throws Exception {
        try (FakeGuestAgent fake = new FakeGuestAgent(dir.resolve("qga.sock"));
             GuestAgent agent = new GuestAgent("default_deb", () -> { }, FAST)) {
            fake.frozen = "frozen"; // as a guest restored from a full-state snapshot taken while frozen
            agent.attach(fake.socket, true);
            await().atMost(Duration.ofSeconds(5)).until(() -> agent.state().info() != null);
            assertThat(fake.frozen).isEqualTo("thawed");
            assertThat(agent.state().frozen()).isFalse();
        }
    }
}
