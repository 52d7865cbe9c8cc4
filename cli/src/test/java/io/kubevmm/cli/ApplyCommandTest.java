package io.kubevmm.cli;

import io.kubevmm.api.v1alpha1.VMNode;
import io.kubevmm.api.v1alpha1.VMSnapshot;
import io.kubevmm.api.v1alpha1.VmPhase;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class ApplyCommandTest extends MockClusterTest {

    @Test
    void applyCreatesThenReportsUnchangedThenConfigured() throws Exception {
        Path manifest = file("vm.yaml", vmYaml("demo", "256Mi"));

        Run first = kubevmm("apply", "-f", manifest.toString());
        assertThat(first.code()).isZero();
        assertThat(first.out()).isEqualTo("virtualmachine.kubevmm.io/demo created\n");
        assertThat(vm("demo").getSpec().getMemory()).isEqualTo("256Mi");

        assertThat(kubevmm("apply", "-f", manifest.toString()).out()).isEqualTo("virtualmachine.kubevmm.io/demo unchanged\n");

        file("vm.yaml", vmYaml("demo", "512Mi"));
        Run changed = kubevmm("apply", "-f", manifest.toString());
        assertThat(changed.out()).isEqualTo("virtualmachine.kubevmm.io/demo configured\n");
        assertThat(vm("demo").getSpec().getMemory()).isEqualTo("512Mi");
    }

    @Test
    void reapplyKeepsTheStatusTheOperatorWrote() throws Exception {
        Path manifest = file("vm.yaml", vmYaml("demo", "256Mi"));
        kubevmm("apply", "-f", manifest.toString());
        setVmStatus("demo", VmPhase.Running, "node-a", condition("Ready", "True", "GuestReady", "guest printed its pattern"));

        file("vm.yaml", vmYaml("demo", "1Gi"));
        assertThat(kubevmm("apply", "-f", manifest.toString()).out()).contains("configured");

        assertThat(vm("demo").getSpec().getMemory()).isEqualTo("1Gi");
        assertThat(vm("demo").getStatus().getPhase()).isEqualTo(VmPhase.Running);
        assertThat(vm("demo").getStatus().getNodeName()).isEqualTo("node-a");
    }

    @Test
    void fieldsDroppedFromTheManifestAreRemovedOnReapply() throws Exception {
        Path manifest = file("vm.yaml", vmYaml("demo", "256Mi"));
        kubevmm("apply", "-f", manifest.toString());
        assertThat(vm("demo").getSpec().getReadiness()).isNotNull();

        file("vm.yaml", vmYaml("demo", "256Mi").replace("  readiness: {serialPattern: KUBEVMM-GUEST-READY}\n", ""));
        assertThat(kubevmm("apply", "-f", manifest.toString()).out()).contains("configured");

        assertThat(vm("demo").getSpec().getReadiness()).isNull();
    }

    @Test
    void applyRefusesInvalidVmYamlNamingTheFieldAndSendsNothing() {
        Path invalid = repoRoot().resolve("examples/invalid-vm.yaml");
        int requestsBefore = server.getRequestCount();

        Run run = kubevmm("apply", "-f", invalid.toString());

        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).isEqualTo("error: " + invalid + ": VirtualMachine broken: spec.memory \"12Zi\" is not a quantity (example: 512Mi)\n");
        assertThat(run.out()).isEmpty();
        assertThat(server.getRequestCount()).isEqualTo(requestsBefore);
        assertThat(vm("broken")).isNull();
    }

    @Test
    void oneInvalidObjectStopsTheWholeFile() throws Exception {
        Path manifest = file("two.yaml", vmYaml("good", "256Mi") + "---\n" + vmYaml("bad", "lots"));

        Run run = kubevmm("apply", "-f", manifest.toString());

        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).contains("VirtualMachine bad: spec.memory \"lots\" is not a quantity");
        assertThat(vm("good")).isNull();
    }

    @Test
    void misspeltFieldsAndUnknownStatesAreNamedWithTheChoices() throws Exception {
        Path manifest = file("typo.yaml", vmYaml("typo", "256Mi").replace("state: Running", "state: Runing")
                .replace("memory:", "memroy:"));

        Run run = kubevmm("apply", "-f", manifest.toString());

        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).contains("spec.state \"Runing\" is not one of Defined, Stopped, Running, Suspended")
                .contains("spec.memroy \"256Mi\" is not a field of VirtualMachine; known here: ")
                .doesNotContain("io.kubevmm", "ignorable");
    }

    @Test
    void multiDocumentFileCreatesEachKindInItsScope() throws Exception {
        Path manifest = file("all.yaml", vmYaml("demo", "256Mi") + """
                ---
                apiVersion: kubevmm.io/v1alpha1
                kind: VMSnapshot
                metadata: {name: demo-snap}
                spec: {vmName: demo, type: FullState}
                ---
                apiVersion: kubevmm.io/v1alpha1
                kind: VMNode
                metadata: {name: node-a}
                spec: {unschedulable: true}
                """);

        Run run = kubevmm("apply", "-f", manifest.toString());

        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out().lines()).containsExactly("virtualmachine.kubevmm.io/demo created",
                "vmsnapshot.kubevmm.io/demo-snap created", "vmnode.kubevmm.io/node-a created");
        assertThat(client.resources(VMSnapshot.class).inNamespace("default").withName("demo-snap").get().getSpec().getVmName())
                .isEqualTo("demo");
        assertThat(client.resources(VMNode.class).withName("node-a").get().getSpec().getUnschedulable()).isTrue();
    }

    @Test
    void kindsApplyDoesNotHandleAreRefusedWithTheKnownOnes() throws Exception {
        Path manifest = file("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n");

        Run run = kubevmm("apply", "-f", manifest.toString());

        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).contains("kind ConfigMap is not a KubeVMM kind apply handles; use one of: VirtualMachine, VMNode, VMMigration, VMSnapshot, VMRestore");
    }

    @Test
    void aMissingFileIsNamed() {
        Run run = kubevmm("apply", "-f", "nope.yaml");
        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).isEqualTo("error: nope.yaml: no such file\n");
    }

    static Path repoRoot() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("examples/invalid-vm.yaml"))) {
                return dir;
            }
        }
        throw new IllegalStateException("examples/invalid-vm.yaml not found above " + Path.of("").toAbsolutePath());
    }
}
