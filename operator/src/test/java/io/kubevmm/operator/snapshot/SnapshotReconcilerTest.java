package io.kubevmm.operator.snapshot;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubevmm.api.v1alpha1.BootSpec;
import io.kubevmm.api.v1alpha1.FileRef;
import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.Labels;
import io.kubevmm.api.v1alpha1.VMSnapshot;
import io.kubevmm.api.v1alpha1.VMSnapshotSpec;
import io.kubevmm.api.v1alpha1.VMSnapshotStatus;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceSpec;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceStatus;
import io.kubevmm.api.v1alpha1.VirtualMachineSpec;
import io.kubevmm.api.v1alpha1.VmState;
import io.kubevmm.operator.testing.RegisterCrds;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The operator hands a snapshot to the node running the VM, or fails it naming the field; the test plays the nodes. */
@QuarkusTest
@WithKubernetesTestServer(crud = true, setup = RegisterCrds.class)
class SnapshotReconcilerTest {
    static final Duration WAIT = Duration.ofSeconds(30);

    @Inject
    KubernetesClient client;

    void runningVm(String name, String node) {
        // The instance first, as a node would have it: the VM controller finds it placed already.
        VirtualMachineInstance vmi = new VirtualMachineInstance();
        vmi.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("default").build());
        VirtualMachineInstanceSpec vmiSpec = new VirtualMachineInstanceSpec();
        vmiSpec.setNodeName(node);
        vmi.setSpec(vmiSpec);
        VirtualMachineInstanceStatus status = new VirtualMachineInstanceStatus();
        status.setPhase(InstancePhase.Running);
        vmi.setStatus(status);
        client.resource(vmi).create();
        client.resource(vmi).updateStatus();
        VirtualMachine vm = new VirtualMachine();
        vm.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("default").build());
        VirtualMachineSpec spec = new VirtualMachineSpec();
        spec.setState(VmState.Running);
        spec.setMemory("256Mi");
        BootSpec boot = new BootSpec();
        boot.setKernel(new FileRef("vmlinuz"));
        spec.setBoot(boot);
        vm.setSpec(spec);
        client.resource(vm).create();
    }

    VMSnapshot snapshot(String name, String vmName) {
        VMSnapshot snapshot = new VMSnapshot();
        snapshot.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("default").build());
        VMSnapshotSpec spec = new VMSnapshotSpec();
        spec.setVmName(vmName);
        snapshot.setSpec(spec);
        return client.resource(snapshot).create();
    }

    VMSnapshot get(String name) {
        return client.resources(VMSnapshot.class).inNamespace("default").withName(name).get();
    }

    @Test
    void theNodeRunningTheVmIsHandedTheSnapshot() {
        runningVm("snapped", "node-b");

        snapshot("snapped-1", "snapped");

        await().ignoreExceptions().atMost(WAIT).untilAsserted(() -> {
            VMSnapshot s = get("snapped-1");
            assertThat(s.getMetadata().getLabels()).containsEntry(Labels.NODE, "node-b").containsEntry(Labels.VM, "snapped");
            assertThat(s.getStatus().getNodeName()).isEqualTo("node-b");
            // The VM's spec, so a clone can still be defined after the VM is deleted.
            assertThat(s.getMetadata().getAnnotations().get(SnapshotReconciler.VM_SPEC)).contains("\"memory\":\"256Mi\"");
            assertThat(s.getStatus().getPhase()).isEqualTo(VMSnapshotStatus.Phase.Pending);
        });
    }

    @Test
    void aSnapshotOfAnUnknownVmFailsNamingTheField() {
        snapshot("orphan-1", "nope");

        await().ignoreExceptions().atMost(WAIT).untilAsserted(() -> {
            VMSnapshot s = get("orphan-1");
            assertThat(s.getStatus().getPhase()).isEqualTo(VMSnapshotStatus.Phase.Failed);
            assertThat(s.getStatus().getError()).isEqualTo("VMNotFound: spec.vmName: there is no VirtualMachine nope in namespace default");
            assertThat(s.getStatus().getReadyToUse()).isFalse();
        });
    }
}
