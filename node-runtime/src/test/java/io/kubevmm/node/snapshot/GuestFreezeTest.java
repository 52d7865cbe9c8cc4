package io.kubevmm.node.snapshot;

import io.kubevmm.node.agent.FakeGuestAgent;
import io.kubevmm.node.agent.GuestAgent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** What a snapshot does with the guest's file systems, and what it reports in status.indications. */
class GuestFreezeTest {
    private static final GuestAgent.Timeouts FAST = new GuestAgent.Timeouts(Duration.ofSeconds(30), Duration.ofMillis(200),
            Duration.ofMillis(500), Duration.ofMillis(500), Duration.ofMillis(500));

    @TempDir
    Path dir;

    @Test
    void withAConnectedAgentTheCaptureHappensFrozenAndTheGuestIsThawedAfter() throws Exception {
        try (FakeGuestAgent fake = new FakeGuestAgent(dir.resolve("qga.sock"));
             GuestAgent agent = new GuestAgent("default_deb", () -> { }, FAST)) {
            agent.attach(fake.socket, true);
            await().atMost(Duration.ofSeconds(5)).until(() -> agent.state().info() != null);
            String during;
            GuestFreeze freeze;
            try (GuestFreeze f = GuestFreeze.freeze(agent, "default_deb", true)) {
                freeze = f;
                during = fake.frozen;
            }
            assertThat(during).isEqualTo("frozen");
            assertThat(fake.frozen).isEqualTo("thawed");
            assertThat(freeze.indications()).containsExactly("GuestAgent", "Frozen");
            assertThat(freeze.problem()).isNull();
        }
    }

    @Test
    void aThawThatFailsIsRetried() throws Exception {
        try (FakeGuestAgent fake = new FakeGuestAgent(dir.resolve("qga.sock"));
             GuestAgent agent = new GuestAgent("default_deb", () -> { }, FAST)) {
            agent.attach(fake.socket, true);
            await().atMost(Duration.ofSeconds(5)).until(() -> agent.state().info() != null);
            fake.failingThaws = 1;
            GuestFreeze freeze = GuestFreeze.freeze(agent, "default_deb", true);
            freeze.close();
            assertThat(fake.frozen).isEqualTo("thawed");
            assertThat(freeze.problem()).isNull();
        }
    }

    @Test
    void aThawThatKeepsFailingIsReported() throws Exception {
        try (FakeGuestAgent fake = new FakeGuestAgent(dir.resolve("qga.sock"));
             GuestAgent agent = new GuestAgent("default_deb", () -> { }, FAST)) {
            agent.attach(fake.socket, true);
            await().atMost(Duration.ofSeconds(5)).until(() -> agent.state().info() != null);
            fake.failingThaws = GuestFreeze.THAW_ATTEMPTS;
            GuestFreeze freeze = GuestFreeze.freeze(agent, "default_deb", true);
            freeze.close();
            assertThat(freeze.problem()).contains("may still be frozen", "thaw failed 3 times", "Device or resource busy");
        }
    }

    @Test
    void withoutAnAgentNothingIsFrozenAndTheSnapshotSaysSo() {
        try (GuestAgent agent = new GuestAgent("default_demo", () -> { }, FAST)) {
            agent.attach(null, false);
            try (GuestFreeze freeze = GuestFreeze.freeze(agent, "default_demo", true)) {
                assertThat(freeze.indications()).containsExactly("NoGuestAgent");
            }
        }
    }
}
