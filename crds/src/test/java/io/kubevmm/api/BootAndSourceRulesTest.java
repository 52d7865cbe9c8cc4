package io.kubevmm.api;

import io.kubevmm.api.v1alpha1.BootSpec;
import io.kubevmm.api.v1alpha1.DiskSource;
import io.kubevmm.api.v1alpha1.DiskSpec;
import io.kubevmm.api.v1alpha1.FileRef;
import io.kubevmm.api.v1alpha1.Firmware;
import io.kubevmm.api.v1alpha1.Profile;
import io.kubevmm.api.v1alpha1.VirtualMachineSpec;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.kubevmm.api.SpecValidatorTest.errors;
import static io.kubevmm.api.SpecValidatorTest.vm;
import static org.assertj.core.api.Assertions.assertThat;

/** Which boot methods go together, and what a disk source may name. */
class BootAndSourceRulesTest {
    static final String SHA = "a".repeat(64);

    static VirtualMachineSpec uefiVm() {
        VirtualMachineSpec spec = vm();
        spec.setProfile(Profile.standard);
        BootSpec boot = new BootSpec();
        boot.setFirmware(Firmware.uefi);
        spec.setBoot(boot);
        spec.setDisks(List.of(disk("root", DiskSource.http("http://127.0.0.1:8080/debian.qcow2", SHA), 1)));
        return spec;
    }

    static DiskSpec disk(String name, DiskSource source, Integer bootOrder) {
        DiskSpec d = new DiskSpec();
        d.setName(name);
        d.setSource(source);
        d.setBootOrder(bootOrder);
        return d;
    }

    @Test
    void firmwareBootOnStandardFromADiskIsValid() {
        assertThat(errors(uefiVm())).isEmpty();
        VirtualMachineSpec bios = uefiVm();
        bios.getBoot().setFirmware(Firmware.bios);
        assertThat(errors(bios)).isEmpty();
    }

    @Test
    void firmwareOnMicrovmIsRefusedNamingTheField() {
        VirtualMachineSpec spec = uefiVm();
        spec.setProfile(Profile.microvm);
        assertThat(errors(spec)).singleElement().asString()
                .startsWith("spec.boot.firmware uefi needs profile standard (q35): microvm has no firmware");
        spec.setProfile(null); // the default is microvm
        assertThat(errors(spec)).singleElement().asString().startsWith("spec.boot.firmware uefi needs profile standard");
    }

    @Test
    void firmwareExcludesKernelBootAndNeedsADisk() {
        VirtualMachineSpec spec = uefiVm();
        spec.getBoot().setKernel(new FileRef("vmlinuz"));
        spec.getBoot().setCmdline("console=ttyS0");
        assertThat(errors(spec)).extracting(e -> e.substring(0, e.indexOf(' ')))
                .containsExactly("spec.boot.kernel", "spec.boot.cmdline");
        assertThat(errors(spec).getFirst()).contains("only applies to direct kernel boot");
        VirtualMachineSpec noDisk = uefiVm();
        noDisk.setDisks(null);
        assertThat(errors(noDisk)).singleElement().asString().startsWith("spec.disks firmware boot needs a disk to boot from");
    }

    @Test
    void withoutFirmwareTheKernelIsStillRequired() {
        VirtualMachineSpec spec = uefiVm();
        spec.getBoot().setFirmware(null);
        assertThat(errors(spec)).extracting(e -> e.substring(0, e.indexOf(' ')))
                .containsExactly("spec.boot.kernel.path", "spec.disks[0].bootOrder");
        assertThat(errors(spec).get(1)).contains("only applies with boot.firmware");
    }

    @Test
    void bootOrdersAreUniqueAndInRange() {
        VirtualMachineSpec spec = uefiVm();
        spec.setDisks(List.of(disk("root", new DiskSource("debian.qcow2"), 1), disk("data", new DiskSource("data.raw"), 1),
                disk("more", new DiskSource("more.raw"), 0)));
        assertThat(errors(spec)).containsExactly(
                "spec.disks[1].bootOrder 1 is also the bootOrder of spec.disks[0]; give each disk its own",
                "spec.disks[2].bootOrder 0 is out of range; use 1 (tried first) to 30");
    }

    @Test
    void aSourceIsAPathOrADownloadNotBoth() {
        VirtualMachineSpec spec = vm();
        DiskSource both = DiskSource.http("https://images.example/x.qcow2", SHA);
        both.setPath("x.qcow2");
        spec.setDisks(List.of(disk("a", both, null), disk("b", new DiskSource(), null)));
        assertThat(errors(spec)).containsExactly(
                "spec.disks[0].source has both path and http; give one: a file in the node's image directory or a download",
                "spec.disks[1].source needs path (a file in the node's image directory) or http (url and sha256 of a download)");
    }

    @Test
    void aSourcePathMayNotLeaveTheImageDirectory() {
        VirtualMachineSpec spec = vm();
        spec.setDisks(List.of(disk("a", new DiskSource("../etc/shadow"), null), disk("b", new DiskSource("/dev/sda"), null)));
        assertThat(errors(spec)).satisfiesExactly(
                e -> assertThat(e).startsWith("spec.disks[0].source.path \"../etc/shadow\" contains '..'"),
                e -> assertThat(e).startsWith("spec.disks[1].source.path \"/dev/sda\" is an absolute path"));
    }

    @Test
    void downloadsNeedAnHttpUrlWithoutCredentialsAndASha256() {
        VirtualMachineSpec spec = vm();
        spec.setDisks(List.of(
                disk("a", DiskSource.http("file:///etc/shadow", SHA), null),
                disk("b", DiskSource.http("https://user:secret@images.example/x.qcow2", SHA), null),
                disk("c", DiskSource.http("http:///x.qcow2", SHA), null),
                disk("d", DiskSource.http("https://images.example/x.qcow2", "ABC"), null),
                disk("e", DiskSource.http("https://images.example/a b.qcow2", null), null)));
        List<String> errors = errors(spec);
        assertThat(errors).satisfiesExactly(
                e -> assertThat(e).startsWith("spec.disks[0].source.http.url \"file:///etc/shadow\" is not an http or https URL"),
                e -> assertThat(e).startsWith("spec.disks[1].source.http.url contains a user name or password").doesNotContain("secret"),
                e -> assertThat(e).startsWith("spec.disks[2].source.http.url \"http:///x.qcow2\" names no host"),
                e -> assertThat(e).startsWith("spec.disks[3].source.http.sha256 \"ABC\" is not a SHA-256"),
                e -> assertThat(e).startsWith("spec.disks[4].source.http.url \"https://images.example/a b.qcow2\" contains spaces"),
                e -> assertThat(e).startsWith("spec.disks[4].source.http.sha256 is required"));
    }
}
