package io.kubevmm.api;

import io.kubevmm.api.v1alpha1.BootSpec;
import io.kubevmm.api.v1alpha1.DiskSpec;
import io.kubevmm.api.v1alpha1.FileRef;
import io.kubevmm.api.v1alpha1.HighAvailabilitySpec;
import io.kubevmm.api.v1alpha1.VMMigrationSpec;
import io.kubevmm.api.v1alpha1.VMRestoreSpec;
import io.kubevmm.api.v1alpha1.VirtualMachineSpec;
import io.kubevmm.api.validation.FieldError;
import io.kubevmm.api.validation.Quantities;
import io.kubevmm.api.validation.SpecValidator;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class SpecValidatorTest {

    static VirtualMachineSpec vm() {
        VirtualMachineSpec spec = new VirtualMachineSpec();
        BootSpec boot = new BootSpec();
        boot.setKernel(new FileRef("vmlinuz"));
        spec.setBoot(boot);
        spec.setMemory("256Mi");
        return spec;
    }

    static List<String> errors(VirtualMachineSpec spec) {
        return SpecValidator.validate(spec).stream().map(FieldError::toString).toList();
    }

    static DiskSpec disk(String name, String size, String source) {
        DiskSpec d = new DiskSpec();
        d.setName(name);
        d.setSize(size);
        d.setSource(source == null ? null : new FileRef(source));
        return d;
    }

    @Test
    void aMinimalVmIsValid() {
        assertThat(errors(vm())).isEmpty();
    }

    @Test
    void memoryMustBeAQuantityOfAtLeast16Mi() {
        VirtualMachineSpec spec = vm();
        spec.setMemory("12Zi");
        assertThat(errors(spec)).containsExactly("spec.memory \"12Zi\" is not a quantity (example: 512Mi)");
        spec.setMemory("8Mi");
        assertThat(errors(spec)).containsExactly("spec.memory 8Mi is too small; use at least 16Mi");
    }

    @Test
    void theKernelIsRequiredAndPathsStayInsideTheImageDirectory() {
        VirtualMachineSpec spec = vm();
        spec.setBoot(null);
        assertThat(errors(spec)).singleElement().asString().startsWith("spec.boot.kernel.path is required");
        spec = vm();
        spec.getBoot().setInitrd(new FileRef("../../etc/shadow"));
        assertThat(errors(spec)).singleElement().asString().startsWith("spec.boot.initrd.path \"../../etc/shadow\" contains '..'");
    }

    @Test
    void disksNeedUniqueDnsNamesAndExactlyASizeOrASource() {
        VirtualMachineSpec spec = vm();
        spec.setDisks(List.of(disk("data", "1Gi", null), disk("data", "1Gi", null), disk("Bad_Name", "1Gi", null),
                disk("empty", null, null), disk("huge", "lots", null)));
        assertThat(errors(spec)).containsExactly(
                "spec.disks[1].name \"data\" is used by another disk; disk names must be unique",
                "spec.disks[2].name \"Bad_Name\" is not a DNS label (lowercase letters, digits, '-'; example: data)",
                "spec.disks[3] needs size (a new empty disk, e.g. 1Gi) or source.path (an overlay on a base image)",
                "spec.disks[4].size \"lots\" is not a quantity (example: 1Gi)");
    }

    @Test
    void cpuCountIsBounded() {
        VirtualMachineSpec spec = vm();
        spec.setCpu(0);
        assertThat(errors(spec)).containsExactly("spec.cpu 0 is out of range; use 1 to 64");
    }

    @Test
    void checkpointIntervalOnlyMakesSenseWithCheckpointHa() {
        VirtualMachineSpec spec = vm();
        HighAvailabilitySpec ha = new HighAvailabilitySpec();
        ha.setMode(HighAvailabilitySpec.Mode.Restart);
        ha.setCheckpointIntervalSeconds(5);
        spec.setHighAvailability(ha);
        assertThat(errors(spec)).singleElement().asString().contains("only applies with mode Checkpoint");
    }

    @Test
    void migrationsAndRestoresNameWhatTheyActOn() {
        assertThat(SpecValidator.validate(new VMMigrationSpec())).extracting(FieldError::field).containsExactly("spec.vmName");
        assertThat(SpecValidator.validate(new VMRestoreSpec())).extracting(FieldError::field)
                .containsExactly("spec.snapshotName", "spec.targetVmName");
    }

    @Test
    void quantitiesConvertToBytesAndBackInTheirShortestExactForm() {
        assertThat(Quantities.toBytes("256Mi")).isEqualTo(256L << 20);
        assertThat(Quantities.toBytes("1G")).isEqualTo(1_000_000_000L);
        assertThat(Quantities.format(256L << 20)).isEqualTo("256Mi");
        assertThat(Quantities.format((256L << 20) + 8192)).isEqualTo("262152Ki");
        assertThat(Quantities.format(1L << 30)).isEqualTo("1Gi");
    }
}
