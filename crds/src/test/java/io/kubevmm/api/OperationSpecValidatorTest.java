package io.kubevmm.api;

import io.kubevmm.api.v1alpha1.VMMigrationSpec;
import io.kubevmm.api.v1alpha1.VMRestoreSpec;
import io.kubevmm.api.v1alpha1.VMSnapshotSpec;
import io.kubevmm.api.validation.FieldError;
import io.kubevmm.api.validation.SpecValidator;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Migrations, snapshots and restores must name what they act on. */
class OperationSpecValidatorTest {

    @Test
    void aMigrationNamesItsVmAndAllowsSomeDowntime() {
        VMMigrationSpec spec = new VMMigrationSpec();
        spec.setMaxDowntimeMillis(0L);
        assertThat(SpecValidator.validate(spec)).extracting(FieldError::toString).containsExactly(
                "spec.vmName is required: the name of the VirtualMachine to migrate",
                "spec.maxDowntimeMillis 0 must be at least 1 (default 300)");
        spec.setVmName("demo");
        spec.setMaxDowntimeMillis(300L);
        assertThat(SpecValidator.validate(spec)).isEmpty();
    }

    @Test
    void aMigrationBandwidthCapIsNeverNegative() {
        VMMigrationSpec spec = new VMMigrationSpec();
        spec.setVmName("demo");
        spec.setBandwidthMiBps(-1L);
        assertThat(SpecValidator.validate(spec)).extracting(FieldError::field).containsExactly("spec.bandwidthMiBps");
    }

    @Test
    void multifdChannelsAreForPreCopyOnlyAndAtMostSixteen() {
        VMMigrationSpec spec = new VMMigrationSpec();
        spec.setVmName("demo");
        spec.setMultifdChannels(4);
        assertThat(SpecValidator.validate(spec)).extracting(FieldError::toString).containsExactly(
                "spec.multifdChannels needs spec.strategy PreCopy (got the default Auto): QEMU does not combine multifd with post-copy");
        spec.setStrategy(VMMigrationSpec.Strategy.PreCopy);
        assertThat(SpecValidator.validate(spec)).isEmpty();
        spec.setMultifdChannels(17);
        assertThat(SpecValidator.validate(spec)).extracting(FieldError::field).containsExactly("spec.multifdChannels");
        spec.setMultifdChannels(0);
        spec.setStrategy(VMMigrationSpec.Strategy.PostCopy);
        assertThat(SpecValidator.validate(spec)).as("0 is one stream, fine with any strategy").isEmpty();
    }

    @Test
    void aSnapshotNamesItsVm() {
        assertThat(SpecValidator.validate(new VMSnapshotSpec())).extracting(FieldError::toString)
                .containsExactly("spec.vmName is required: the name of the VirtualMachine to snapshot");
        VMSnapshotSpec spec = new VMSnapshotSpec();
        spec.setVmName("demo");
        assertThat(SpecValidator.validate(spec)).isEmpty();
    }

    @Test
    void aRestoreNamesTheSnapshotAndTheVmItBecomes() {
        assertThat(SpecValidator.validate(new VMRestoreSpec())).extracting(FieldError::field)
                .containsExactly("spec.snapshotName", "spec.targetVmName");
        VMRestoreSpec spec = new VMRestoreSpec();
        spec.setSnapshotName("before-upgrade");
        spec.setTargetVmName("demo-clone");
        assertThat(SpecValidator.validate(spec)).isEmpty();
    }
}
