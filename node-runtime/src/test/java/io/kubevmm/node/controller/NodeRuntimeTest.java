package io.kubevmm.node.controller;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.InstanceState;
import io.kubevmm.api.v1alpha1.VMNode;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceStatus;
import io.kubevmm.node.testing.GuestConsole;
import io.kubevmm.node.testing.RegisterCrds;
import io.kubevmm.node.testing.Vmis;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;

/** The node runtime as a whole: VMIs in the API server become QEMU guests, reported back in status. */
@QuarkusTest
@WithKubernetesTestServer(crud = true, setup = RegisterCrds.class)
class NodeRuntimeTest {
    static final Duration BOOT = Duration.ofSeconds(90);
    static final String NODE = "test-node";
    static final String TOKEN = "Bearer test-token";

    @Inject
    KubernetesClient client;

    VirtualMachineInstance get(String name) {
        return client.resources(VirtualMachineInstance.class).inNamespace("default").withName(name).get();
    }

    VirtualMachineInstanceStatus awaitStatus(String name, java.util.function.Predicate<VirtualMachineInstanceStatus> until) {
        await().atMost(BOOT).pollInterval(Duration.ofMillis(100)).until(() -> {
            VirtualMachineInstance vmi = get(name);
            return vmi != null && vmi.getStatus() != null && until.test(vmi.getStatus());
        });
        return get(name).getStatus();
    }

    static Optional<Condition> condition(VirtualMachineInstanceStatus status, String type) {
        return status.getConditions() == null ? Optional.empty()
                : status.getConditions().stream().filter(c -> type.equals(c.getType())).findFirst();
    }

    static boolean ready(VirtualMachineInstanceStatus s) {
        return condition(s, "Ready").map(c -> "True".equals(c.getStatus())).orElse(false);
    }

    List<Event> events(String name) {
        return client.v1().events().inNamespace("default").list().getItems().stream()
                .filter(e -> name.equals(e.getInvolvedObject().getName())).toList();
    }

    @Test
    void aVmiCreatedInTheApiBootsIsSuspendedAndResumedAndLeavesNothingBehindWhenDeleted() {
        client.resource(Vmis.vmi("web", NODE, "128Mi", "memcheck:16", InstanceState.Running)).create();

        VirtualMachineInstanceStatus running = awaitStatus("web", s -> s.getPhase() == InstancePhase.Running && ready(s));
        assertThat(running.getNodeName()).isEqualTo(NODE);
        assertThat(running.getQemuPid()).isPositive();
        assertThat(running.getGuestReadyTime()).isNotNull();
        assertThat(Instant.parse(running.getGuestReadyTime())).isAfterOrEqualTo(Instant.parse(running.getStartedTime()));
        assertThat(running.getBootMillis()).isPositive();
        assertThat(running.getAccelerator()).isIn("kvm", "tcg");
        assertThat(running.getObservedGeneration()).isEqualTo(get("web").getMetadata().getGeneration());
        if ("tcg".equals(running.getAccelerator()) && Integer.parseInt(running.getQemuVersion().split("\\.")[0]) < 9) {
            assertThat(running.getGuestMemory()).isEqualTo("131080Ki");
            assertThat(running.getWorkarounds()).anySatisfy(w -> assertThat(w).contains("RAM padded"));
        } else {
            // QEMU 9.0 fixed the TCG dirty-bitmap bug: the guest gets exactly what it asked for.
            assertThat(running.getGuestMemory()).isEqualTo("128Mi");
            assertThat(running.getWorkarounds()).noneSatisfy(w -> assertThat(w).contains("RAM"));
        }
        long pid = running.getQemuPid();
        GuestConsole console = new GuestConsole(Path.of(running.getConsoleLog()));

        client.resources(VirtualMachineInstance.class).inNamespace("default").withName("web")
                .edit(v -> { v.getSpec().setState(InstanceState.Suspended); return v; });
        VirtualMachineInstanceStatus suspended = awaitStatus("web", s -> s.getPhase() == InstancePhase.Suspended);
        assertThat(condition(suspended, "Paused")).hasValueSatisfying(c -> assertThat(c.getReason()).isEqualTo("SuspendedToMemory"));
        assertThat(condition(suspended, "Ready")).hasValueSatisfying(c -> assertThat(c.getStatus()).isEqualTo("False"));

        client.resources(VirtualMachineInstance.class).inNamespace("default").withName("web")
                .edit(v -> { v.getSpec().setState(InstanceState.Running); return v; });
        awaitStatus("web", s -> s.getPhase() == InstancePhase.Running && ready(s));
        int tick = console.lastTick();
        console.awaitTickAbove(tick, BOOT);
        assertThat(get("web").getStatus().getQemuPid()).isEqualTo(pid);

        // One Event per phase a reconcile saw: Pending or Creating first (QEMU may be up before
        // a reconcile looks in between, as a clean CI run saw), then each visible change.
        List<String> reasons = events("web").stream().map(Event::getReason).toList();
        assertThat(reasons).contains("Running", "GuestReady", "Suspended");
        assertThat(reasons).containsAnyOf("Pending", "Creating");

        client.resources(VirtualMachineInstance.class).inNamespace("default").withName("web").delete();
        await().atMost(BOOT).until(() -> get("web") == null);
        assertThat(ProcessHandle.of(pid).filter(io.kubevmm.node.engine.ProcessLiveness::running)).as("QEMU after the VMI is deleted").isEmpty();
        assertThat(Path.of(running.getConsoleLog()).getParent()).as("state dir").doesNotExist();
    }

    @Test
    void theNodeRegistersItsCapacityAndEmulatorAndKeepsItsLeaseFresh() {
        await().atMost(Duration.ofSeconds(30)).until(() -> client.resources(VMNode.class).withName(NODE).get() != null
                && client.resources(VMNode.class).withName(NODE).get().getStatus() != null);
        VMNode node = client.resources(VMNode.class).withName(NODE).get();
        assertThat(node.getStatus().getCapacity().getMemory()).isEqualTo("1Gi");
        assertThat(node.getStatus().getCapacity().getCpu()).isEqualTo(4);
        assertThat(node.getStatus().getAccelerator()).isIn("kvm", "tcg");
        assertThat(node.getStatus().getQemuVersion()).matches("\\d+\\.\\d+\\.\\d+");
        assertThat(node.getStatus().getQemuCapabilities()).contains("events", "postcopy-ram", "background-snapshot");
        assertThat(node.getStatus().getEndpoint()).matches(".+:\\d+");
        assertThat(node.getStatus().getUnderlayAddress()).as("kubevmm.node.underlay-address defaults to the bind address")
                .isEqualTo("127.0.0.1");

        var lease = client.leases().inNamespace("kubevmm-system").withName("kubevmm-node-" + NODE);
        await().atMost(Duration.ofSeconds(30)).until(() -> lease.get() != null);
        var firstRenew = lease.get().getSpec().getRenewTime();
        await().atMost(Duration.ofSeconds(30)).until(() -> !lease.get().getSpec().getRenewTime().equals(firstRenew));
        assertThat(lease.get().getSpec().getHolderIdentity()).isEqualTo(NODE);
    }

    @Test
    void aVmiThatDoesNotFitInTheNodesMemoryFailsWithTheReasonAndOthersKeepRunning() {
        client.resource(Vmis.vmi("small", NODE, "128Mi", "idle", InstanceState.Running)).create();
        awaitStatus("small", s -> s.getPhase() == InstancePhase.Running && ready(s));
        long smallPid = get("small").getStatus().getQemuPid();

        client.resource(Vmis.vmi("huge", NODE, "2Gi", "idle", InstanceState.Running)).create();
        VirtualMachineInstanceStatus huge = awaitStatus("huge", s -> s.getPhase() == InstancePhase.Failed);

        assertThat(condition(huge, "Failure")).hasValueSatisfying(c -> {
            assertThat(c.getReason()).isEqualTo("InsufficientMemory");
            assertThat(c.getMessage()).contains("spec.memory 2Gi", NODE, "free");
        });
        assertThat(huge.getQemuPid()).isNull();
        assertThat(events("huge")).anySatisfy(e -> assertThat(e.getType()).isEqualTo("Warning"));
        assertThat(get("small").getStatus().getQemuPid()).isEqualTo(smallPid);
        assertThat(ProcessHandle.of(smallPid)).isPresent();

        client.resources(VirtualMachineInstance.class).inNamespace("default").withName("huge").delete();
        client.resources(VirtualMachineInstance.class).inNamespace("default").withName("small").delete();
        await().atMost(BOOT).until(() -> get("small") == null && get("huge") == null);
    }

    @Test
    void aVmiWithAnInvalidSpecFailsWithAMessageNamingTheFieldAndNothingStarts() {
        client.resource(Vmis.vmi("typo", NODE, "12Zi", "idle", InstanceState.Running)).create();
        VirtualMachineInstanceStatus typo = awaitStatus("typo", s -> s.getPhase() == InstancePhase.Failed);

        assertThat(condition(typo, "Failure")).hasValueSatisfying(c -> {
            assertThat(c.getReason()).isEqualTo("InvalidSpec");
            assertThat(c.getMessage()).contains("spec.memory", "12Zi");
        });
        assertThat(typo.getQemuPid()).isNull();
        client.resources(VirtualMachineInstance.class).inNamespace("default").withName("typo").delete();
    }

    @Test
    void theHttpApiServesNothingWithoutTheNodeToken() {
        for (String path : List.of("/api/v1/health", "/q/metrics", "/api/v1/namespaces/default/vms/web/console")) {
            given().when().get(path).then().statusCode(401);
            given().header("Authorization", "Bearer wrong").when().get(path).then().statusCode(401);
        }
        given().header("Authorization", TOKEN).when().get("/api/v1/health").then()
                .statusCode(200).body(containsString("\"node\":\"test-node\""));
    }

    @Test
    void metricsAndConsoleAreServedToTheTokenHolder() {
        client.resource(Vmis.vmi("observed", NODE, "128Mi", "idle", InstanceState.Running)).create();
        awaitStatus("observed", NodeRuntimeTest::ready);

        given().header("Authorization", TOKEN).when().get("/api/v1/namespaces/default/vms/observed/console?lines=50")
                .then().statusCode(200).body(containsString(GuestConsole.READY));
        // The same console through names that decode to a path around the VM's state dir: not a VM name, 404.
        for (String path : List.of("/api/v1/namespaces/default/vms/observed%2F..%2Fdefault_observed/console",
                "/api/v1/namespaces/default_observed%2F..%2Fdefault/vms/observed/console",
                "/api/v1/snapshots/default_x%2F..%2F..%2Fvms%2Fdefault_observed/manifest")) {
            given().urlEncodingEnabled(false).header("Authorization", TOKEN).when().get(path).then().statusCode(404);
        }
        String metrics = given().header("Authorization", TOKEN).when().get("/q/metrics").then().statusCode(200)
                .extract().asString();
        assertThat(metrics).contains("kubevmm_vm_boot_seconds_count", "kubevmm_vm_operation_seconds_count{",
                "kubevmm_vms{phase=\"Running\"}", "kubevmm_vm_cpu_seconds_total{namespace=\"default\",vm=\"observed\"}",
                "kubevmm_vm_memory_resident_bytes{namespace=\"default\",vm=\"observed\"}");

        client.resources(VirtualMachineInstance.class).inNamespace("default").withName("observed").delete();
        await().atMost(BOOT).until(() -> get("observed") == null);
    }
}
