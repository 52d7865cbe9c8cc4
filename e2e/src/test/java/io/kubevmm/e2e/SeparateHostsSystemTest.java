package io.kubevmm.e2e;

import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VMMigrationSpec.Strategy;
import io.kubevmm.api.v1alpha1.VMMigrationStatus.Phase;
import io.kubevmm.api.v1alpha1.VMNode;
import io.kubevmm.api.v1alpha1.VmPhase;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The local cluster's nodes as separate hosts (its default as root): each node runtime and its QEMUs in a network
 * namespace of its own with its own underlay address. A guest runs inside its node's namespace,
 * migrates to the other node across the underlay, and {@code local down} leaves no namespace or
 * bridge behind.
 */
class SeparateHostsSystemTest extends ClusterTestBase {
    @Override
    String clusterDirName() {
        return "separate-hosts";
    }

    HostNetwork hosts() {
        return new HostNetwork(cluster.home().dir());
    }

    @Test
    void eachNodeIsAHostOfItsOwnAndAGuestMigratesAcrossTheUnderlay() throws Exception {
        assumeLocalCluster();
        Assumptions.assumeTrue(cluster.separateHosts(), "separate hosts need root");
        for (int i = 0; i < 2; i++) {
            VMNode node = client.resources(VMNode.class).withName(LocalCluster.nodeName(i)).get();
            assertThat(node.getStatus().getEndpoint()).as("node API of " + LocalCluster.nodeName(i))
                    .startsWith(hosts().nodeAddress(i) + ":");
            assertThat(node.getStatus().getMigrationEndpoint()).startsWith(hosts().nodeAddress(i) + ":");
        }
        assertThat(client.getMasterUrl().getHost()).as("the API server listens on the underlay bridge").isEqualTo(hosts().hostAddress());

        client.resource(vm("hosted", "256Mi", "memcheck:32")).create();
        awaitPhase("hosted", VmPhase.Running, true);
        awaitTickAbove("hosted", 2);
        String source = vmi("hosted").getStatus().getNodeName();
        long qemu = vmi("hosted").getStatus().getQemuPid();
        assertThat(namespaceOf(qemu)).as("QEMU runs in its node's network namespace").isEqualTo(hosts().namespace(source));

        migration("hosted-1", "hosted", s -> s.setStrategy(Strategy.PreCopy));
        VMMigration done = awaitOutcome("hosted-1");
        assertThat(done.getStatus().getPhase()).as("outcome: %s", done.getStatus().getFailureReason()).isEqualTo(Phase.Succeeded);
        String target = vmi("hosted").getStatus().getNodeName();
        assertThat(target).isNotEqualTo(source);
        long moved = vmi("hosted").getStatus().getQemuPid();
        assertThat(namespaceOf(moved)).isEqualTo(hosts().namespace(target));
        int tick = lastTick("hosted");
        awaitTickAbove("hosted", tick);
        assertThat(console("hosted")).doesNotContain("memcheck BAD");
        deleteAndAwaitGone("hosted");
    }

    /** The named network namespace process {@code pid} is in ({@code ip netns identify}). */
    static String namespaceOf(long pid) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("ip", "netns", "identify", Long.toString(pid)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        p.waitFor();
        return out;
    }
}
