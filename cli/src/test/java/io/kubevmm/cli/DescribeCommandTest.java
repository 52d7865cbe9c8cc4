package io.kubevmm.cli;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceSpec;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceStatus;
import io.kubevmm.api.v1alpha1.VmPhase;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class DescribeCommandTest extends MockClusterTest {

    @Test
    void describeVmShowsSpecStatusInstanceConditionsAndEventsInTimeOrder() {
        createVm("demo");
        setVmStatus("demo", VmPhase.Running, "node-a",
                condition("Valid", "True", "SpecValid", "spec is valid"),
                condition("Ready", "False", "Booting", "waiting for KUBEVMM-GUEST-READY"));
        createVmi("demo");
        event("demo-2", "VirtualMachineInstance", "demo", "Started", "QEMU pid 4242 started", 20);
        event("demo-1", "VirtualMachine", "demo", "Scheduled", "placed on node-a", 60);
        event("other-1", "VirtualMachine", "other", "Scheduled", "not about demo", 10);

        Run run = kubevmm("describe", "vm", "demo");

        assertThat(run.code()).as(run.err()).isZero();
        String out = run.out();
        assertThat(out).contains("Name:             demo", "Namespace:        default");
        assertThat(out).containsPattern("Profile:\\s+microvm \\(default\\)").containsPattern("Memory:\\s+256Mi")
                .containsPattern("Kernel:\\s+vmlinuz").containsPattern("Network:\\s+none \\(default\\)");
        assertThat(out).containsPattern("Phase:\\s+Running").containsPattern("Node:\\s+node-a");
        assertThat(out).containsPattern("Valid\\s+True\\s+SpecValid\\s+\\d+s\\s+spec is valid")
                .containsPattern("Ready\\s+False\\s+Booting\\s+\\d+s\\s+waiting for KUBEVMM-GUEST-READY");
        assertThat(out).containsPattern("QEMU pid:\\s+4242").containsPattern("Accelerator:\\s+tcg")
                .containsPattern("Guest memory:\\s+258Mi").containsPattern("Workarounds:\\s+memory padded for tcg")
                .containsPattern("Boot:\\s+812 ms");
        assertThat(out).contains("Events:");
        assertThat(out).doesNotContain("not about demo");
        assertThat(out.indexOf("placed on node-a")).as("older event first").isLessThan(out.indexOf("QEMU pid 4242 started"));
        assertThat(out).containsPattern("Normal\\s+Started\\s+20s\\s+kubevmm-node\\s+virtualmachineinstance/demo\\s+QEMU pid 4242 started");
    }

    @Test
    void describeVmWithoutInstanceSaysNothingRuns() {
        createVm("demo");

        Run run = kubevmm("describe", "vm", "demo");

        assertThat(run.out()).containsPattern("Instance:\\s+<none>").containsPattern("Events:\\s+<none>");
    }

    @Test
    void describeOtherKindsShowsSpecAndStatus() {
        createVm("demo");
        createVmi("demo");

        Run run = kubevmm("describe", "vmi", "demo");

        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out()).contains("Spec:", "nodeName: node-a", "Status:", "qemuPid: 4242");
    }

    private void createVmi(String name) {
        VirtualMachineInstance vmi = new VirtualMachineInstance();
        vmi.getMetadata().setName(name);
        vmi.getMetadata().setNamespace("default");
        VirtualMachineInstanceSpec spec = new VirtualMachineInstanceSpec();
        spec.setNodeName("node-a");
        vmi.setSpec(spec);
        var vmis = client.resources(VirtualMachineInstance.class).inNamespace("default");
        vmis.resource(vmi).create();
        VirtualMachineInstanceStatus status = new VirtualMachineInstanceStatus();
        status.setPhase(InstancePhase.Running);
        status.setNodeName("node-a");
        status.setQemuPid(4242L);
        status.setAccelerator("tcg");
        status.setGuestMemory("258Mi");
        status.setWorkarounds(List.of("memory padded for tcg"));
        status.setBootMillis(812L);
        vmi.setStatus(status);
        vmis.resource(vmi).updateStatus();
    }

    private void event(String name, String kind, String object, String reason, String message, int secondsAgo) {
        String at = Instant.now().minusSeconds(secondsAgo).toString();
        client.v1().events().inNamespace("default").resource(new EventBuilder()
                .withNewMetadata().withName(name).withNamespace("default").endMetadata()
                .withNewInvolvedObject().withKind(kind).withName(object).withNamespace("default").endInvolvedObject()
                .withType("Normal").withReason(reason).withMessage(message)
                .withFirstTimestamp(at).withLastTimestamp(at).withCount(1)
                .withNewSource().withComponent("kubevmm-node").endSource()
                .build()).create();
    }
}
