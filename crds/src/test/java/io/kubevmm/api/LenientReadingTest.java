package io.kubevmm.api;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.kubevmm.api.v1alpha1.Profile;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VMSnapshot;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.validation.FieldError;
import io.kubevmm.api.validation.SpecValidator;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bad values in stored objects, read the way the operator's and node runtimes' informers read
 * them (fabric8's KubernetesSerialization): the object still reads, the bad field is named.
 */
class LenientReadingTest {
    static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

    /** A good VM's spec with these lines added (a boot or memory line replaces the good one). */
    static String vmYaml(String specLines) {
        return """
                apiVersion: kubevmm.io/v1alpha1
                kind: VirtualMachine
                metadata:
                  name: bad
                  namespace: default
                spec:
                """ + (specLines.contains("boot:") ? "" : "  boot: {kernel: {path: vmlinuz}}\n")
                + (specLines.contains("memory:") ? "" : "  memory: 256Mi\n") + specLines.indent(2);
    }

    static VirtualMachine read(String specLines) {
        return SERIALIZATION.unmarshal(vmYaml(specLines), VirtualMachine.class);
    }

    static List<String> errors(VirtualMachine vm) {
        return SpecValidator.validate(vm).stream().map(FieldError::toString).toList();
    }

    @Test
    void anOverflowingCpuCountReadsAndIsOutOfRange() {
        VirtualMachine vm = read("cpu: 99999999999");
        assertThat(vm.getSpec().getCpu()).isNull();
        assertThat(vm.getSpec().getMemory()).isEqualTo("256Mi");
        assertThat(errors(vm)).containsExactly("spec.cpu 99999999999 is out of range (1-64)");
    }

    @Test
    void unknownEnumValuesNameTheAllowedOnes() {
        assertThat(errors(read("profile: xen"))).containsExactly("spec.profile \"xen\" is not one of microvm, standard");
        assertThat(errors(read("state: Flying")))
                .containsExactly("spec.state \"Flying\" is not one of Defined, Stopped, Running, Suspended");
        assertThat(errors(read("network: {mode: bridge}"))).containsExactly("spec.network.mode \"bridge\" is not one of none, user, overlay");
    }

    @Test
    void wrongTypesAndSeveralBadFieldsAreEachNamed() {
        VirtualMachine vm = read("""
                cpu: many
                profile: 7x
                boot: {kernel: {path: vmlinuz}, cmdline: [a, b]}
                disks:
                - {name: ok, size: 1Gi}
                - 5
                terminationGracePeriodSeconds: 1e30
                """);
        assertThat(errors(vm)).contains(
                "spec.cpu \"many\" is not a whole number (1-64)",
                "spec.profile \"7x\" is not one of microvm, standard",
                "spec.boot.cmdline [\"a\",\"b\"] is not a string",
                "spec.disks[1] 5 is not an object");
        assertThat(errors(vm)).anySatisfy(e -> assertThat(e).startsWith("spec.terminationGracePeriodSeconds"));
        assertThat(vm.getSpec().getDisks()).hasSize(2);
        assertThat(vm.getSpec().getDisks().getFirst().getName()).isEqualTo("ok");
    }

    @Test
    void aSpecThatIsNotAnObjectReadsAsEmptyAndInvalid() {
        VirtualMachine vm = SERIALIZATION.unmarshal("""
                apiVersion: kubevmm.io/v1alpha1
                kind: VirtualMachine
                metadata: {name: bad, namespace: default}
                spec: 42
                """, VirtualMachine.class);
        assertThat(errors(vm)).first().asString().startsWith("spec 42 ");
    }

    @Test
    void aCloneOrPatchKeepsTheUsersValueSoItStaysInvalid() {
        VirtualMachine vm = read("cpu: 99999999999\nprofile: xen");
        String json = SERIALIZATION.asJson(vm);
        assertThat(json).contains("\"cpu\":99999999999").contains("\"profile\":\"xen\"");
        VirtualMachine clone = SERIALIZATION.clone(vm);
        assertThat(errors(clone)).containsExactlyInAnyOrder(
                "spec.cpu 99999999999 is out of range (1-64)", "spec.profile \"xen\" is not one of microvm, standard");
        // A field set since wins over the raw value it replaces.
        clone.getSpec().setProfile(Profile.standard);
        assertThat(SERIALIZATION.asJson(clone)).contains("\"profile\":\"standard\"").contains("\"cpu\":99999999999");
    }

    @Test
    void otherKindsReadLenientlyToo() {
        VMMigration migration = SERIALIZATION.unmarshal("""
                apiVersion: kubevmm.io/v1alpha1
                kind: VMMigration
                metadata: {name: m, namespace: default}
                spec: {vmName: demo, strategy: Teleport, maxDowntimeMillis: 99999999999999999999}
                """, VMMigration.class);
        assertThat(SpecValidator.validate(migration.getSpec())).extracting(FieldError::field)
                .containsExactlyInAnyOrder("spec.strategy", "spec.maxDowntimeMillis");
        VMSnapshot snapshot = SERIALIZATION.unmarshal("""
                apiVersion: kubevmm.io/v1alpha1
                kind: VMSnapshot
                metadata: {name: s, namespace: default}
                spec: {vmName: demo, type: Everything}
                """, VMSnapshot.class);
        assertThat(SpecValidator.validate(snapshot.getSpec())).extracting(FieldError::toString)
                .singleElement().asString().startsWith("spec.type \"Everything\" is not one of ");
        VirtualMachineInstance vmi = SERIALIZATION.unmarshal("""
                apiVersion: kubevmm.io/v1alpha1
                kind: VirtualMachineInstance
                metadata: {name: i, namespace: default}
                spec: {nodeName: node-a, state: Exploded, boot: {kernel: {path: vmlinuz}}}
                """, VirtualMachineInstance.class);
        assertThat(SpecValidator.validate(vmi.getSpec())).extracting(FieldError::field).containsExactly("spec.state");
    }

    @Test
    void capsNameTheirLimit() {
        assertThat(errors(read("boot: {kernel: {path: vmlinuz}, cmdline: " + "x".repeat(70_000) + "}")))
                .containsExactly("spec.boot.cmdline has 70000 characters; at most 1920 (x86 Linux takes 2047 and the node may append its own)");
        StringBuilder disks = new StringBuilder("disks:\n");
        for (int i = 0; i < 200; i++) {
            disks.append("- {name: d").append(i).append(", size: 1Mi}\n");
        }
        List<String> errors = errors(read(disks.toString()));
        assertThat(errors).containsExactly("spec.disks has 200 disks; profile microvm attaches at most 24 (microvm has 24 virtio-mmio slots)");
        assertThat(errors(read(disks + "profile: standard\nnetwork: {mode: user}\n")))
                .containsExactly("spec.disks has 200 disks; profile standard attaches at most 28 (q35 has 30 free PCI slots, two taken by the NIC and the guest agent channel)");
        assertThat(errors(read("memory: 2Pi"))).containsExactly("spec.memory 2Pi is too large; use at most 1Ti");
        assertThat(errors(read("disks: [{name: big, size: 100Ti}]"))).containsExactly("spec.disks[0].size 100Ti is too large; use at most 64Ti");
    }

    @Test
    void vmNamesThatWouldReachPathsOrQemuOptionsBadlyAreRefused() {
        for (String name : List.of("a b", "a,b", "a=b", "a/b", "a.b", "A", "x".repeat(64), "-a")) {
            VirtualMachine vm = read("");
            vm.getMetadata().setName(name);
            assertThat(errors(vm)).as(name).singleElement().asString().startsWith("metadata.name \"" + name + "\" is not a DNS label");
        }
        VirtualMachine ok = read("");
        ok.getMetadata().setName("web-1");
        assertThat(errors(ok)).isEmpty();
    }
}
