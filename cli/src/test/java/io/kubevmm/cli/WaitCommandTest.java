package io.kubevmm.cli;

import io.kubevmm.api.v1alpha1.VmPhase;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class WaitCommandTest extends MockClusterTest {

    @Test
    void waitSucceedsWhenTheOperatorMovesTheVmToThePhaseAndPrintsProgress() throws Exception {
        createVm("demo");
        setVmStatus("demo", VmPhase.Scheduling, null);
        CompletableFuture<Void> operator = CompletableFuture.runAsync(() -> {
            sleep(400);
            setVmStatus("demo", VmPhase.Starting, "node-a", condition("Ready", "False", "Booting", "waiting for the guest"));
            sleep(400);
            setVmStatus("demo", VmPhase.Running, "node-a", condition("Ready", "True", "GuestReady", "guest is ready"));
        });

        Run run = kubevmm("wait", "vm", "demo", "--for", "phase=Running", "--timeout", "20s", "--interval", "100ms");
        operator.get(5, TimeUnit.SECONDS);

        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out()).containsPattern("virtualmachine demo: phase Scheduling, Ready=<unset>")
                .contains("virtualmachine demo: phase Starting, Ready=False (Booting: waiting for the guest)")
                .contains("virtualmachine demo: phase Running, Ready=True (GuestReady: guest is ready)")
                .containsPattern("virtualmachine.kubevmm.io/demo condition met \\(phase=Running\\) after \\d+\\.\\ds");
    }

    @Test
    void waitForAConditionSucceedsWhenItTurnsTrue() {
        createVm("demo");
        setVmStatus("demo", VmPhase.Running, "node-a", condition("Ready", "True", "GuestReady", "ready"));

        Run run = kubevmm("wait", "vm", "demo", "--for", "condition=Ready", "--timeout", "5s");

        assertThat(run.code()).isZero();
        assertThat(run.out()).contains("condition met (condition=Ready=True)");
    }

    @Test
    void waitTimesOutNamingTheLastPhaseAndTheReadyMessage() {
        createVm("demo");
        setVmStatus("demo", VmPhase.Scheduling, null,
                condition("Ready", "False", "Unschedulable", "0/2 nodes: 2 insufficient memory"));

        Run run = kubevmm("wait", "vm", "demo", "--for", "phase=Running", "--timeout", "1s", "--interval", "100ms");

        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).isEqualTo("error: timed out after 1s waiting for virtualmachine demo in namespace default"
                + " to reach phase=Running; last seen: phase Scheduling, Ready=False (Unschedulable: 0/2 nodes: 2 insufficient memory)."
                + " See: kubevmm describe vm demo\n");
    }

    @Test
    void waitForDeleteSucceedsOnceTheObjectIsGone() {
        createVm("demo");
        CompletableFuture.runAsync(() -> {
            sleep(300);
            client.resources(io.kubevmm.api.v1alpha1.VirtualMachine.class).inNamespace("default").withName("demo").delete();
        });

        Run run = kubevmm("wait", "vm", "demo", "--for", "delete", "--timeout", "10s", "--interval", "100ms");

        assertThat(run.code()).isZero();
        assertThat(run.out()).contains("virtualmachine demo: does not exist");
    }

    @Test
    void aMisspeltForIsExplained() {
        Run run = kubevmm("wait", "vm", "demo", "--for", "ready");

        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).contains("use phase=Running, condition=Ready, condition=Ready=False or delete");
    }
}
