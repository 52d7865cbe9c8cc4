package io.kubevmm.operator.vm;

import io.kubevmm.api.v1alpha1.ImageStatus;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceStatus;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** status.images: a VM shows its instance's downloads, so `kubectl get vm -o yaml` says what it waits for. */
class ImageRollupTest {

    private static VirtualMachineInstance downloading(VirtualMachine vm) {
        VirtualMachineInstance vmi = DiskNodeTest.placedOn(vm, "node-a");
        ImageStatus image = new ImageStatus();
        image.setDisk("root");
        image.setSha256("ab".repeat(32));
        image.setPhase(ImageStatus.Phase.Downloading);
        image.setDownloadedBytes(1024L);
        image.setTotalBytes(4096L);
        VirtualMachineInstanceStatus status = new VirtualMachineInstanceStatus();
        status.setImages(List.of(image));
        vmi.setStatus(status);
        return vmi;
    }

    @Test
    void theVmShowsTheDownloadsItsInstanceWaitsFor() {
        VirtualMachine vm = DiskNodeTest.vm(true, null);
        var status = VmStatusFactory.compute(vm, new VmStatusFactory.Observation(null, "node-a", null, downloading(vm)));
        assertThat(status.getImages()).singleElement().satisfies(i -> {
            assertThat(i.getDisk()).isEqualTo("root");
            assertThat(i.getPhase()).isEqualTo(ImageStatus.Phase.Downloading);
            assertThat(i.getDownloadedBytes()).isEqualTo(1024L);
        });
    }

    @Test
    void onceTheImagesAreCachedTheVmShowsNone() {
        VirtualMachine vm = DiskNodeTest.vm(true, null);
        VirtualMachineInstance vmi = downloading(vm);
        vmi.getStatus().setImages(null);
        var status = VmStatusFactory.compute(vm, new VmStatusFactory.Observation(null, "node-a", null, vmi));
        assertThat(status.getImages()).isNull();
    }
}
