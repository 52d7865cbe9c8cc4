package io.kubevmm.api;

import io.kubevmm.api.v1alpha1.BootSpec;
import io.kubevmm.api.v1alpha1.DiskSpec;
import io.kubevmm.api.v1alpha1.FileRef;
import io.kubevmm.api.v1alpha1.HighAvailabilitySpec;
import io.kubevmm.api.v1alpha1.ReadinessSpec;
import io.kubevmm.api.v1alpha1.RestoreSource;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceSpec;
import io.kubevmm.api.v1alpha1.VirtualMachineSpec;
import io.kubevmm.api.validation.FieldError;
import io.kubevmm.api.validation.SpecValidator;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** How VirtualMachine and VirtualMachineInstance specs are judged before anything starts. */
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
        d.setSource(source == null ? null : new io.kubevmm.api.v1alpha1.DiskSource(source));
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
                "spec.disks[2].name \"Bad_Name\" is not a DNS label starting with a letter (at most 32 lowercase letters, digits and '-'; example: data)",
                "spec.disks[3] needs size (a new empty disk, e.g. 1Gi) or source (an overlay on a base image: path or http)",
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
    void aDiskIsEitherNewOrAnOverlayNeverBoth() {
        VirtualMachineSpec spec = vm();
        spec.setDisks(List.of(disk("data", "1Gi", "base.qcow2")));
        assertThat(errors(spec)).containsExactly(
                "spec.disks[0] has both size and source; give size for a new empty disk or source for an overlay, not both");
        spec.setDisks(List.of(disk("data", null, "base.qcow2"), disk("scratch", "512Mi", null)));
        assertThat(errors(spec)).isEmpty();
    }

    @Test
    void sixteenMebibytesIsEnoughMemoryAndSizesBeyondALongAreReported() {
        VirtualMachineSpec spec = vm();
        spec.setMemory("16Mi");
        assertThat(errors(spec)).isEmpty();
        spec.setMemory("99999999Ei");
        assertThat(errors(spec)).containsExactly("spec.memory 99999999Ei is too large (example: 512Mi)");
    }

    @Test
    void absoluteAndEmptyPathsAreRefusedNamingTheField() {
        VirtualMachineSpec spec = vm();
        spec.getBoot().setKernel(new FileRef("/var/lib/kubevmm/images/vmlinuz"));
        assertThat(errors(spec)).singleElement().asString().startsWith("spec.boot.kernel.path \"/var/lib/kubevmm/images/vmlinuz\" is an absolute path");
        spec = vm();
        spec.setDisks(List.of(disk("leak", null, "/etc/shadow")));
        assertThat(errors(spec)).singleElement().asString().startsWith("spec.disks[0].source.path \"/etc/shadow\" is an absolute path");
        spec = vm();
        spec.getBoot().setInitrd(new FileRef(""));
        assertThat(errors(spec)).singleElement().asString().startsWith("spec.boot.initrd.path is empty");
    }

    @Test
    void moreThanSixtyFourCpusIsRejected() {
        VirtualMachineSpec spec = vm();
        spec.setCpu(65);
        assertThat(errors(spec)).containsExactly("spec.cpu 65 is out of range; use 1 to 64");
        spec.setCpu(64);
        assertThat(errors(spec)).isEmpty();
    }

    @Test
    void anEmptyReadinessPatternIsRejectedBecauseEveryLineWouldMatch() {
        VirtualMachineSpec spec = vm();
        ReadinessSpec readiness = new ReadinessSpec();
        readiness.setSerialPattern(" ");
        spec.setReadiness(readiness);
        assertThat(errors(spec)).singleElement().asString().startsWith("spec.readiness.serialPattern is empty");
    }

    @Test
    void checkpointsAreTakenAtLeastEverySecond() {
        VirtualMachineSpec spec = vm();
        HighAvailabilitySpec ha = new HighAvailabilitySpec();
        ha.setMode(HighAvailabilitySpec.Mode.Checkpoint);
        ha.setCheckpointIntervalSeconds(0);
        spec.setHighAvailability(ha);
        assertThat(errors(spec)).contains("spec.highAvailability.checkpointIntervalSeconds must be at least 1");
    }

    @Test
    void checkpointModeIsRefusedUntilItExists() {
        VirtualMachineSpec spec = vm();
        HighAvailabilitySpec ha = new HighAvailabilitySpec();
        ha.setMode(HighAvailabilitySpec.Mode.Checkpoint);
        spec.setHighAvailability(ha);
        assertThat(errors(spec)).containsExactly(
                "spec.highAvailability.mode Checkpoint is not available in this release yet; use Restart or None");
        ha.setMode(HighAvailabilitySpec.Mode.Restart);
        assertThat(errors(spec)).isEmpty();
    }

    @Test
    void localDiskLossIsAcceptedOnlyForRestart() {
        VirtualMachineSpec spec = vm();
        HighAvailabilitySpec ha = new HighAvailabilitySpec();
        ha.setMode(HighAvailabilitySpec.Mode.None);
        ha.setRestartWithLocalDiskLoss(true);
        spec.setHighAvailability(ha);
        assertThat(errors(spec)).containsExactly(
                "spec.highAvailability.restartWithLocalDiskLoss only applies with mode Restart; set mode: Restart or remove it");
        ha.setMode(HighAvailabilitySpec.Mode.Restart);
        assertThat(errors(spec)).isEmpty();
    }

    @Test
    void anInstanceGetsTheSameMachineChecksAndNamesTheSnapshotItRestoresFrom() {
        VirtualMachineInstanceSpec spec = new VirtualMachineInstanceSpec();
        spec.setMemory("12Zi");
        RestoreSource restore = new RestoreSource();
        restore.setKind(RestoreSource.Kind.Snapshot);
        spec.setRestoreFrom(restore);
        assertThat(SpecValidator.validate(spec)).extracting(FieldError::field)
                .containsExactly("spec.memory", "spec.boot.kernel.path", "spec.restoreFrom.name");
    }

    @Test
    void anOverlayNetworkNameMustBeAVmNetworkNameAndNeedsModeOverlay() {
        VirtualMachineSpec spec = vm();
        io.kubevmm.api.v1alpha1.NetworkSpec network = new io.kubevmm.api.v1alpha1.NetworkSpec();
        network.setMode(io.kubevmm.api.v1alpha1.NetworkMode.overlay);
        network.setNetworkName("Lab_Net/1");
        spec.setNetwork(network);
        assertThat(errors(spec)).contains("spec.network.networkName \"Lab_Net/1\" is not a VMNetwork name (lowercase letters,"
                + " digits, '-' and '.', at most 253 characters; example: default); leave it out to join network default");
        network.setNetworkName("lab.net-1");
        assertThat(errors(spec)).as("an overlay VM with a good network name").isEmpty();
        network.setMode(io.kubevmm.api.v1alpha1.NetworkMode.user);
        assertThat(errors(spec)).containsExactly("spec.network.networkName applies only with mode overlay; remove it or set mode: overlay");
    }

    @Test
    void aMissingSpecIsReportedNotThrown() {
        assertThat(SpecValidator.validate((VirtualMachineSpec) null)).extracting(FieldError::field).containsExactly("spec");
        assertThat(SpecValidator.validate((VirtualMachineInstanceSpec) null)).extracting(FieldError::field).containsExactly("spec");
    }

}
