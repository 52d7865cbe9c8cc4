package io.kubevmm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kubevmm.api.v1alpha1.NodeResources;
import io.kubevmm.api.v1alpha1.VMNode;
import io.kubevmm.api.v1alpha1.VMNodeStatus;
import io.kubevmm.api.v1alpha1.VmPhase;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class GetCommandTest extends MockClusterTest {

    @Test
    void vmTableShowsThePrinterColumnsInDeclaredOrder() {
        createVm("demo");
        setVmStatus("demo", VmPhase.Running, "node-a", condition("Ready", "True", "GuestReady", "ready"));
        createVm("other");

        Run run = kubevmm("get", "vm");

        assertThat(run.code()).isZero();
        List<String> lines = run.out().lines().toList();
        assertThat(lines.get(0).split("\\s+")).containsExactly("NAME", "PHASE", "NODE", "READY", "AGE");
        assertThat(lines.get(1)).matches("demo\\s+Running\\s+node-a\\s+True\\s+\\d+s");
        assertThat(lines.get(2).trim()).matches("other\\s+\\d+s");
        // Columns line up: every value starts under its header.
        assertThat(lines.get(1).indexOf("node-a")).isEqualTo(lines.get(0).indexOf("NODE"));
    }

    @Test
    void kindsAnswerToShortPluralAndKindNames() {
        createVm("demo");
        for (String name : List.of("vm", "vms", "virtualmachine", "virtualmachines", "VirtualMachine", "virtualmachines.kubevmm.io")) {
            assertThat(kubevmm("get", name).out()).as(name).contains("demo");
        }
    }

    @Test
    void severalKindsPrintOneTableEachWithQualifiedNames() {
        createVm("demo");

        Run run = kubevmm("get", "vm,vmnode,vmsnap");

        assertThat(run.code()).isZero();
        assertThat(run.out()).contains("virtualmachine.kubevmm.io/demo").doesNotContain("VMNODE");
        assertThat(run.err()).isEmpty();
    }

    @Test
    void allNamespacesPutsNamespaceFirst() {
        createVm("demo");

        Run run = kubevmm("get", "vm", "-A");

        assertThat(run.out().lines().findFirst().orElseThrow().split("\\s+")).startsWith("NAMESPACE", "NAME", "PHASE");
        assertThat(run.out()).contains("default");
    }

    @Test
    void wideAddsSpecColumnsBeforeAge() {
        createVm("demo");

        Run run = kubevmm("get", "vm", "-o", "wide");

        assertThat(run.out().lines().findFirst().orElseThrow().split("\\s+"))
                .containsExactly("NAME", "PHASE", "NODE", "READY", "STATE", "PROFILE", "CPU", "MEMORY", "AGE");
        assertThat(run.out()).contains("256Mi");
    }

    @Test
    void jsonOfAListIsAV1ListWithItems() throws Exception {
        createVm("a");
        createVm("b");

        Run run = kubevmm("get", "vm", "-o", "json");

        JsonNode list = new ObjectMapper().readTree(run.out());
        assertThat(list.get("apiVersion").asText()).isEqualTo("v1");
        assertThat(list.get("kind").asText()).isEqualTo("List");
        assertThat(list.get("items")).hasSize(2);
        assertThat(list.get("items").get(0).get("kind").asText()).isEqualTo("VirtualMachine");
        assertThat(list.get("items").get(1).at("/metadata/name").asText()).isEqualTo("b");
    }

    @Test
    void yamlOfOneObjectIsThatObject() {
        createVm("demo");

        Run run = kubevmm("get", "vm", "demo", "-o", "yaml");

        assertThat(run.out()).startsWith("apiVersion: kubevmm.io/v1alpha1\n").contains("kind: VirtualMachine", "name: demo", "memory: 256Mi");
    }

    @Test
    void clusterScopedVmNodesShowCapacity() {
        VMNode node = new VMNode();
        node.getMetadata().setName("node-a");
        client.resources(VMNode.class).resource(node).create();
        VMNodeStatus status = new VMNodeStatus();
        NodeResources capacity = new NodeResources();
        capacity.setCpu(8);
        capacity.setMemory("16Gi");
        status.setCapacity(capacity);
        status.setAccelerator("tcg");
        status.setVmCount(2);
        status.setConditions(List.of(condition("Ready", "True", "Heartbeat", "renewing its lease")));
        node.setStatus(status);
        client.resources(VMNode.class).resource(node).updateStatus();

        Run run = kubevmm("get", "vmnode", "-A");

        List<String> lines = run.out().lines().toList();
        assertThat(lines.get(0).split("\\s+")).containsExactly("NAME", "READY", "ACCEL", "VMS", "CPU", "MEMORY", "AGE");
        assertThat(lines.get(1).split("\\s+")).startsWith("node-a", "True", "tcg", "2", "8", "16Gi");
    }

    @Test
    void aMissingObjectIsReportedWithItsNamespace() {
        Run run = kubevmm("get", "vm", "x");

        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).isEqualTo("error: virtualmachine \"x\" not found in namespace default\n");
    }

    @Test
    void anEmptyListSaysSoOnStderr() {
        Run run = kubevmm("get", "vmsnap", "-n", "team-a");

        assertThat(run.code()).isZero();
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).isEqualTo("No resources found in team-a namespace.\n");
    }

    @Test
    void anUnknownKindListsTheKnownOnes() {
        Run run = kubevmm("get", "pods");

        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).contains("unknown kind \"pods\"; known kinds: vm (VirtualMachine), vmi (VirtualMachineInstance), vmnode (VMNode)");
    }
}
