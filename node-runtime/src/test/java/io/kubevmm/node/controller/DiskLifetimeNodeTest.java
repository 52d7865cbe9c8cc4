package io.kubevmm.node.controller;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubevmm.api.v1alpha1.DiskSpec;
import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.InstanceState;
import io.kubevmm.api.v1alpha1.Labels;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineSpec;
import io.kubevmm.node.testing.RegisterCrds;
import io.kubevmm.node.testing.Vmis;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What the node deletes when: a VMI's deletion (a stop) keeps the VM's disks, the operator's
 * {@code kubevmm.io/delete-disks} or the VM's own deletion removes them.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true, setup = RegisterCrds.class)
class DiskLifetimeNodeTest {
    static final Duration BOOT = Duration.ofSeconds(90);
    /** The sweep runs every 15 s by default. */
    static final Duration SWEEP = Duration.ofSeconds(60);

    @Inject
    KubernetesClient client;

    VirtualMachineInstance get(String name) {
        return client.resources(VirtualMachineInstance.class).inNamespace("default").withName(name).get();
    }

    /** The VirtualMachine the operator would own the VMI by; only its existence and uid matter here. */
    VirtualMachine owner(String name) {
        VirtualMachine vm = new VirtualMachine();
        vm.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("default").build());
        vm.setSpec(new VirtualMachineSpec());
        return client.resource(vm).create();
    }

    VirtualMachineInstance withDisk(VirtualMachine vm) {
        VirtualMachineInstance vmi = Vmis.vmi(vm.getMetadata().getName(), NodeRuntimeTest.NODE, "128Mi", "disk:vda", InstanceState.Running);
        DiskSpec disk = new DiskSpec();
        disk.setName("data");
        disk.setSize("64Mi");
        vmi.getSpec().setDisks(List.of(disk));
        vmi.getMetadata().setOwnerReferences(List.of(new OwnerReferenceBuilder().withApiVersion("kubevmm.io/v1alpha1")
                .withKind("VirtualMachine").withName(vm.getMetadata().getName()).withUid(vm.getMetadata().getUid()).build()));
        return vmi;
    }

    Path runUntilReady(VirtualMachineInstance vmi) {
        client.resource(vmi).create();
        String name = vmi.getMetadata().getName();
        await().atMost(BOOT).pollInterval(Duration.ofMillis(100)).until(() -> get(name) != null && get(name).getStatus() != null
                && get(name).getStatus().getPhase() == InstancePhase.Running && NodeRuntimeTest.ready(get(name).getStatus()));
        return Path.of(get(name).getStatus().getConsoleLog()).getParent();
    }

    /** The token the guest's disk workload reported ("disk wrote T" or "disk found T"), once it did. */
    String token(String name, String verb) {
        Path log = Path.of(get(name).getStatus().getConsoleLog());
        await().atMost(BOOT).ignoreExceptions().until(() -> uncheckedRead(log).matches("(?s).*disk (wrote|found) [0-9a-f]+\\s.*"));
        var m = java.util.regex.Pattern.compile("disk " + verb + " ([0-9a-f]+)").matcher(uncheckedRead(log));
        return m.find() ? m.group(1) : null;
    }

    static String uncheckedRead(Path file) {
        try {
            return Files.readString(file, java.nio.charset.StandardCharsets.ISO_8859_1);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    void deleteVmi(String name) {
        client.resources(VirtualMachineInstance.class).inNamespace("default").withName(name).delete();
        await().atMost(BOOT).until(() -> get(name) == null);
    }

    @Test
    void aStoppedVmKeepsItsDiskAndTheOperatorsWordDeletesIt() throws Exception {
        VirtualMachine vm = owner("db");
        Path dir = runUntilReady(withDisk(vm));
        Path disk = dir.resolve("disk-data.qcow2");
        String written = token("db", "wrote");
        assertThat(written).isNotNull();
        long pid = get("db").getStatus().getQemuPid();

        deleteVmi("db"); // what a stop (state Defined) does

        assertThat(ProcessHandle.of(pid).filter(io.kubevmm.node.engine.ProcessLiveness::running)).as("QEMU after the stop").isEmpty();
        assertThat(disk).as("the disk survives the stop").exists();
        assertThat(dir.resolve("qemu.pid")).doesNotExist();
        assertThat(dir.resolve("console.log")).doesNotExist();
        assertThat(Files.readString(dir.resolve("vm.uid")).strip()).isEqualTo(vm.getMetadata().getUid());

        runUntilReady(withDisk(vm));
        assertThat(token("db", "found")).as("the started guest finds what it wrote").isEqualTo(written);

        client.resources(VirtualMachineInstance.class).inNamespace("default").withName("db")
                .edit(v -> { v.getMetadata().setAnnotations(Map.of(Labels.DELETE_DISKS, "true")); return v; });
        deleteVmi("db");
        assertThat(dir).as("the VM is deleted: its disks go").doesNotExist();
        client.resource(vm).delete();
    }

    @Test
    void disksKeptForAStoppedVmGoOnceTheVmIsDeleted() throws Exception {
        VirtualMachine vm = owner("parked");
        Path dir = runUntilReady(withDisk(vm));
        deleteVmi("parked");
        assertThat(dir.resolve("disk-data.qcow2")).exists();
        Thread.sleep(20_000); // a sweep passes while the VM exists: nothing is deleted
        assertThat(dir.resolve("disk-data.qcow2")).as("the VM still exists").exists();

        client.resource(vm).delete();

        await().atMost(SWEEP).until(() -> !Files.exists(dir));
    }

    @Test
    void aNewVmOfAnOldNameStartsWithEmptyDisks() throws Exception {
        VirtualMachine old = owner("reused");
        Path dir = runUntilReady(withDisk(old));
        assertThat(token("reused", "wrote")).isNotNull();
        deleteVmi("reused");
        client.resource(old).delete();
        VirtualMachine fresh = owner("reused");
        assertThat(fresh.getMetadata().getUid()).isNotEqualTo(old.getMetadata().getUid());

        runUntilReady(withDisk(fresh));

        assertThat(token("reused", "found")).as("the earlier VM's data is not there").isNull();
        assertThat(token("reused", "wrote")).isNotNull();
        assertThat(dir).exists();
        client.resources(VirtualMachineInstance.class).inNamespace("default").withName("reused")
                .edit(v -> { v.getMetadata().setAnnotations(Map.of(Labels.DELETE_DISKS, "true")); return v; });
        deleteVmi("reused");
        client.resource(fresh).delete();
    }
}
