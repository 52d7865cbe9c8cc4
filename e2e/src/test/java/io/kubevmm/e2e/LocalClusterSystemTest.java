package io.kubevmm.e2e;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.v1alpha1.BootSpec;
import io.kubevmm.api.v1alpha1.FileRef;
import io.kubevmm.api.v1alpha1.ReadinessSpec;
import io.kubevmm.api.v1alpha1.SuspendMode;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineSpec;
import io.kubevmm.api.v1alpha1.VmPhase;
import io.kubevmm.api.v1alpha1.VmState;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.kubevmm.api.v1alpha1.VMNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The whole system as a user runs it: API server, operator and two node runtimes as separate
 * processes, real QEMU guests. What a user applies and what the guest prints are the evidence.
 */
class LocalClusterSystemTest extends ClusterTestBase {

    @Override
    String clusterDirName() {
        return "system-test-cluster";
    }

    @Test
    void anAppliedVmRunsIsSuspendedAndResumedAndIsGoneWithItsQemuWhenDeleted() throws Exception {
        client.resource(vm("demo", "256Mi", "memcheck:16")).create();
        VirtualMachine running = awaitPhase("demo", VmPhase.Running, true);
        assertThat(running.getStatus().getNodeName()).isIn("node-a", "node-b");
        long pid = vmi("demo").getStatus().getQemuPid();
        Path stateDir = Path.of(vmi("demo").getStatus().getConsoleLog()).getParent();
        awaitTickAbove("demo", 1);

        edit("demo", v -> { v.getSpec().setState(VmState.Suspended); return v; });
        awaitPhase("demo", VmPhase.Suspended, false);
        int frozen = lastTick("demo");
        Thread.sleep(3000); // the guest must not advance while suspended
        assertThat(lastTick("demo")).as("ticks while suspended").isEqualTo(frozen);

        edit("demo", v -> { v.getSpec().setState(VmState.Running); return v; });
        awaitPhase("demo", VmPhase.Running, true);
        awaitTickAbove("demo", frozen);
        assertThat(console("demo")).contains("tick " + (frozen + 1)).doesNotContain("memcheck BAD");

        deleteAndAwaitGone("demo");
        if (cluster != null) {
            assertThat(ProcessHandle.of(pid).filter(Processes::running)).as("QEMU after delete").isEmpty();
            assertThat(stateDir).as("state dir after delete").doesNotExist();
        }
    }

    @Test
    void suspendToDiskEndsQemuKeepsTheStateAndResumeContinuesWithoutReboot() throws Exception {
        client.resource(vm("hibernate", "256Mi", "memcheck:16")).create();
        awaitPhase("hibernate", VmPhase.Running, true);
        awaitTickAbove("hibernate", 2);
        long pid = vmi("hibernate").getStatus().getQemuPid();

        edit("hibernate", v -> { v.getSpec().setSuspendMode(SuspendMode.Disk); v.getSpec().setState(VmState.Suspended); return v; });
        awaitPhase("hibernate", VmPhase.Suspended, false);
        await().atMost(BOOT).until(() -> vmi("hibernate").getStatus().getSuspendStateFile() != null);
        assertThat(vmi("hibernate").getStatus().getQemuPid()).as("no QEMU while suspended to disk").isNull();
        if (cluster != null) {
            assertThat(ProcessHandle.of(pid).filter(Processes::running)).as("QEMU while suspended to disk").isEmpty();
            assertThat(Path.of(vmi("hibernate").getStatus().getSuspendStateFile())).exists();
        }
        int frozen = lastTick("hibernate");

        edit("hibernate", v -> { v.getSpec().setState(VmState.Running); return v; });
        awaitPhase("hibernate", VmPhase.Running, true);
        awaitTickAbove("hibernate", frozen + 1);
        String console = console("hibernate");
        assertThat(console).contains("tick " + (frozen + 1)).doesNotContain("memcheck BAD");
        assertThat(console.split("KUBEVMM-GUEST-READY", -1)).as("one boot only").hasSize(2);
        deleteAndAwaitGone("hibernate");
    }

    @Test
    void badSpecsAreReportedOnTheVmAndNothingStarts() {
        // Not a quantity: the CRD's pattern, so the API server refuses it, naming the field.
        assertThatThrownBy(() -> client.resource(vm("unparsable", "12Zi", "idle")).create())
                .isInstanceOf(io.fabric8.kubernetes.client.KubernetesClientException.class)
                .hasMessageContainingAll("spec.memory", "12Zi");
        // A quantity below what a guest boots with: only the operator can say so.
        client.resource(vm("broken", "8Mi", "idle")).create();
        VirtualMachine broken = awaitPhase("broken", VmPhase.Failed, false);
        assertThat(condition(broken, "Valid").getMessage()).isEqualTo("spec.memory 8Mi is too small; use at least 16Mi");
        assertThat(vmi("broken")).isNull();

        client.resource(vm("huge", "64Gi", "idle")).create();
        VirtualMachine huge = awaitPhase("huge", VmPhase.Pending, false);
        int nodes = nodeCount();
        assertThat(condition(huge, "Scheduled").getMessage())
                .isEqualTo("0/" + nodes + " nodes are available: " + nodes + " insufficient memory.");
        deleteAndAwaitGone("broken");
        deleteAndAwaitGone("huge");
    }

    @Test
    void nodeApiAndTunnelListenOnlyOnTheAdvertisedAddress() throws IOException {
        assumeLocalCluster();
        for (VMNode node : client.resources(VMNode.class).list().getItems()) {
            String name = node.getMetadata().getName();
            long pid = Long.parseLong(Files.readString(cluster.home().pidFile(name)).strip());
            for (String endpoint : List.of(node.getStatus().getEndpoint(), node.getStatus().getMigrationEndpoint())) {
                String host = endpoint.substring(0, endpoint.lastIndexOf(':'));
                assertThat(host).as("advertised by " + name).isEqualTo(cluster.separateHosts()
                        ? new HostNetwork(cluster.home().dir()).nodeAddress(name.charAt(name.length() - 1) - 'a') : "127.0.0.1");
                int port = Integer.parseInt(endpoint.substring(endpoint.lastIndexOf(':') + 1));
                // /proc/<pid>/net/tcp{,6}, the node runtime's network namespace: local address as hex ip:port, state 0A = LISTEN.
                List<String> listeners = new java.util.ArrayList<>();
                for (String table : List.of("tcp", "tcp6")) {
                    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "net", table)).stream().skip(1).toList()) {
                        String[] f = line.trim().split("\\s+");
                        if (f[3].equals("0A") && Integer.parseInt(f[1].substring(f[1].indexOf(':') + 1), 16) == port) {
                            listeners.add(f[1].substring(0, f[1].indexOf(':')));
                        }
                    }
                }
                String hex = procHex(host);
                assertThat(listeners).as("listening sockets on port " + port + " (" + endpoint + ")").isNotEmpty()
                        .allMatch(a -> a.equals(hex) || a.equals("0000000000000000FFFF0000" + hex));
            }
        }
    }

    /** An IPv4 address as /proc/net/tcp writes it: the four bytes in host (little-endian) order, in hex. */
    static String procHex(String ipv4) {
        String[] b = ipv4.split("\\.");
        return String.format("%02X%02X%02X%02X", Integer.parseInt(b[3]), Integer.parseInt(b[2]), Integer.parseInt(b[1]), Integer.parseInt(b[0]));
    }

    @Test
    void twoVmsAreSpreadOverTwoNodes() {
        client.resource(vm("left", "256Mi", "idle")).create();
        awaitPhase("left", VmPhase.Running, true);
        client.resource(vm("right", "256Mi", "idle")).create();
        awaitPhase("right", VmPhase.Running, true);
        assertThat(get("left").getStatus().getNodeName()).isNotEqualTo(get("right").getStatus().getNodeName());
        deleteAndAwaitGone("left");
        deleteAndAwaitGone("right");
    }

    @Test
    void aNodeRuntimeKilledWithSigkillAndRestartedAdoptsItsRunningGuest() throws Exception {
        assumeLocalCluster();
        client.resource(vm("survivor", "256Mi", "memcheck:16")).create();
        VirtualMachine running = awaitPhase("survivor", VmPhase.Running, true);
        String node = running.getStatus().getNodeName();
        long pid = vmi("survivor").getStatus().getQemuPid();

        cluster.kill9(node);
        try {
            int tick = lastTickOnDisk("survivor");
            await().atMost(BOOT).until(() -> lastTickOnDisk("survivor") > tick); // the guest runs on without its runtime
        } finally {
            cluster.restart(node);
        }
        var restartedAt = java.time.Instant.now();

        await().atMost(BOOT).until(() -> {
            var heartbeat = client.resources(VMNode.class).withName(node).get().getStatus().getHeartbeatTime();
            return java.time.Instant.parse(heartbeat).isAfter(restartedAt); // from the new runtime, not the killed one
        });
        awaitTickAbove("survivor", lastTickOnDisk("survivor"));
        assertThat(vmi("survivor").getStatus().getQemuPid()).as("same QEMU after re-adoption").isEqualTo(pid);
        assertThat(get("survivor").getStatus().getPhase()).isEqualTo(VmPhase.Running);
        assertThat(Conditions.isTrue(get("survivor").getStatus().getConditions(), "Ready")).isTrue();
        assertThat(console("survivor").split("KUBEVMM-GUEST-READY", -1)).as("no second boot").hasSize(2);

        // The re-adopted guest is still fully driven by the new runtime.
        edit("survivor", v -> { v.getSpec().setState(VmState.Suspended); return v; });
        awaitPhase("survivor", VmPhase.Suspended, false);
        deleteAndAwaitGone("survivor");
        // Its first runtime was killed: the QEMU was reparented to init, which may leave it a zombie (ended all the same).
        assertThat(ProcessHandle.of(pid).filter(Processes::running)).as("QEMU after delete").isEmpty();
    }

    @Test
    void anOperatorRestartDoesNotDisturbRunningVms() throws Exception {
        assumeLocalCluster();
        client.resource(vm("steady", "256Mi", "idle")).create();
        awaitPhase("steady", VmPhase.Running, true);
        long pid = vmi("steady").getStatus().getQemuPid();

        cluster.kill9(LocalCluster.OPERATOR);
        cluster.restart(LocalCluster.OPERATOR);
        awaitTickAbove("steady", lastTick("steady") + 1);

        edit("steady", v -> { v.getSpec().setState(VmState.Suspended); return v; });
        awaitPhase("steady", VmPhase.Suspended, false); // the new operator acts on the VM
        assertThat(vmi("steady").getStatus().getQemuPid()).isEqualTo(pid);
        deleteAndAwaitGone("steady");
    }

    @Test
    void aSecondOperatorStandsByUntilTheLeaderDiesThenTakesOverTheLease() throws Exception {
        assumeLocalCluster();
        String standby = LocalCluster.OPERATOR + "-2";
        cluster.startOperator(standby);
        try {
            client.resource(vm("elected", "256Mi", "idle")).create();
            awaitPhase("elected", VmPhase.Running, true);
            // The standby is up (it tries the Lease as it starts) and would reconcile if it held it.
            await().atMost(Duration.ofSeconds(60)).until(() -> Files.readString(cluster.home().log(standby)).contains("started in"));
            assertThat(leaderLeaseHolder()).isEqualTo(LocalCluster.OPERATOR);
            int leaseSeconds = client.leases().inNamespace("kubevmm-system").withName("kubevmm-operator").get()
                    .getSpec().getLeaseDurationSeconds();

            cluster.kill9(LocalCluster.OPERATOR);
            long killed = System.nanoTime();
            edit("elected", v -> { v.getSpec().setState(VmState.Suspended); return v; });
            // Until the standby holds the Lease nobody acts on the change: the standby does not reconcile.
            // The phase is read before the holder, so a suspend seen under the dead leader's name is a real breach.
            await().atMost(Duration.ofSeconds(leaseSeconds + 10)).pollInterval(Duration.ofMillis(100)).until(() -> {
                VmPhase phase = get("elected").getStatus().getPhase();
                if (standby.equals(leaderLeaseHolder())) {
                    return true;
                }
                assertThat(phase).as("phase while the killed leader still holds the Lease").isEqualTo(VmPhase.Running);
                return false;
            });
            double takeover = (System.nanoTime() - killed) / 1e9;
            // A Lease not renewed for its duration is free; the standby tries every retry period (2 s).
            assertThat(takeover).as("seconds from the leader's kill to the standby's Lease (duration %ds)", leaseSeconds)
                    .isLessThanOrEqualTo(leaseSeconds + 3);
            awaitPhase("elected", VmPhase.Suspended, false); // the new leader acts on the VM
            deleteAndAwaitGone("elected");
        } finally {
            cluster.restart(LocalCluster.OPERATOR);
            cluster.kill9(standby);
        }
        // The restarted operator leads again once the killed standby's Lease runs out.
        await().atMost(Duration.ofSeconds(60)).until(() -> LocalCluster.OPERATOR.equals(leaderLeaseHolder()));
    }

    @Test
    void aNodeRuntimeIsRefusedWhatItsChartRoleDoesNotGrant() throws Exception {
        assumeLocalCluster();
        try (KubernetesClient node = cluster.clientAs("node-a")) {
            // It reads what its role grants ...
            assertThat(node.resources(VMNode.class).withName("node-a").get()).isNotNull();
            // ... and is refused (403, by RBAC) the rest.
            var create = org.assertj.core.api.Assertions.catchThrowableOfType(
                    io.fabric8.kubernetes.client.KubernetesClientException.class,
                    () -> node.resource(vm("intruder", "256Mi", "idle")).create());
            assertThat(create.getCode()).as("creating a VirtualMachine as node-a").isEqualTo(403);
            assertThat(create.getMessage()).contains("system:serviceaccount:kubevmm-system:kubevmm-node",
                    "cannot create resource \"virtualmachines\"");
            var secrets = org.assertj.core.api.Assertions.catchThrowableOfType(
                    io.fabric8.kubernetes.client.KubernetesClientException.class,
                    () -> node.secrets().inNamespace("kubevmm-system").list());
            assertThat(secrets.getCode()).as("listing Secrets as node-a").isEqualTo(403);
            assertThat(secrets.getMessage()).contains("cannot list resource \"secrets\"");
        }
        assertThat(get("intruder")).isNull();
    }

    String leaderLeaseHolder() {
        var lease = client.leases().inNamespace("kubevmm-system").withName("kubevmm-operator").get();
        return lease == null ? null : lease.getSpec().getHolderIdentity();
    }

    @Test
    void aStoppedVmBootsWhenStartedAndStopToDefinedReleasesItsInstance() throws Exception {
        VirtualMachine halted = vm("cold", "256Mi", "idle");
        halted.getSpec().setState(VmState.Stopped);
        client.resource(halted).create();
        awaitPhase("cold", VmPhase.Stopped, false);
        assertThat(vmi("cold").getStatus().getQemuPid()).as("machine created, vCPUs halted").isNotNull();
        assertThat(console("cold")).as("nothing executed yet").doesNotContain("KUBEVMM-GUEST-READY");

        edit("cold", v -> { v.getSpec().setState(VmState.Running); return v; });
        awaitPhase("cold", VmPhase.Running, true);
        long pid = vmi("cold").getStatus().getQemuPid();

        edit("cold", v -> { v.getSpec().setState(VmState.Defined); return v; });
        VirtualMachine defined = awaitPhase("cold", VmPhase.Defined, false);
        assertThat(vmi("cold")).as("no instance in state Defined").isNull();
        assertThat(defined.getStatus().getNodeName()).isNull();
        if (cluster != null) {
            assertThat(ProcessHandle.of(pid).filter(Processes::running)).as("QEMU after stop").isEmpty();
        }

        edit("cold", v -> { v.getSpec().setState(VmState.Running); return v; });
        awaitPhase("cold", VmPhase.Running, true);
        assertThat(console("cold")).contains("KUBEVMM-GUEST-READY");
        deleteAndAwaitGone("cold");
    }
}
