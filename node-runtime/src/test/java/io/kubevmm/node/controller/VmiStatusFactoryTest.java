package io.kubevmm.node.controller;

import io.fabric8.kubernetes.api.model.Condition;
import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.InstanceState;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceStatus;
import io.kubevmm.node.lifecycle.Action;
import io.kubevmm.node.lifecycle.MachineState;
import io.kubevmm.node.lifecycle.VmObservation;
import io.kubevmm.node.testing.Vmis;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class VmiStatusFactoryTest {
    private static final VmiStatusFactory.NodeFacts NODE = new VmiStatusFactory.NodeFacts("node-a", "tcg", "10.0.0");
    private static final VmiStatusFactory.Sizing SIZING = new VmiStatusFactory.Sizing(256L << 20, List.of());
    private static final Instant T = Instant.parse("2026-01-01T00:00:00Z");

    private static VmObservation crashed(VmObservation.RestartWait wait) {
        return new VmObservation(InstancePhase.Stopping, MachineState.CRASHED, Action.NONE, 4242L, T, T, T, 900L, 3,
                new VmObservation.Failure("GuestCrashed", "Kernel panic - not syncing", T.plusSeconds(4)), null, null, wait,
                io.kubevmm.node.agent.AgentState.NO_CHANNEL, null);
    }

    private static Condition ready(VirtualMachineInstanceStatus status) {
        return status.getConditions().stream().filter(c -> c.getType().equals("Ready")).findFirst().orElseThrow();
    }

    @Test
    void aGuestWaitingForItsRestartShowsWhenAndWhyInStatus() {
        var wait = new VmObservation.RestartWait(4, Duration.ofSeconds(40), T.plusSeconds(44));
        VirtualMachineInstanceStatus status = VmiStatusFactory.fromObservation(
                Vmis.vmi("looping", "node-a", "256Mi", "idle", InstanceState.Running), crashed(wait), NODE, SIZING);

        assertThat(status.getNextRestartTime()).isEqualTo("2026-01-01T00:00:44Z");
        Condition ready = ready(status);
        assertThat(ready.getStatus()).isEqualTo("False");
        assertThat(ready.getReason()).isEqualTo("RestartBackoff");
        assertThat(ready.getMessage()).contains("GuestCrashed: Kernel panic", "restart 4", "40s", "2026-01-01T00:00:44Z");
    }

    @Test
    void aGuestRestartedAtOnceHasNoNextRestartTime() {
        VirtualMachineInstanceStatus status = VmiStatusFactory.fromObservation(
                Vmis.vmi("crashed", "node-a", "256Mi", "idle", InstanceState.Running), crashed(null), NODE, SIZING);

        assertThat(status.getNextRestartTime()).isNull();
        assertThat(ready(status).getReason()).isEqualTo("GuestCrashed");
    }

    @Test
    void disksWaitingForTheirImagesShowProgressAndAFailureNamesTheFieldAndReason() {
        String sha = "ab".repeat(32);
        var downloading = new io.kubevmm.node.images.ImagesNotReady(List.of(new io.kubevmm.node.images.ImagesNotReady.DiskImage(
                "root", "spec.disks[0].source.http", sha, "images.example:8080",
                new io.kubevmm.node.images.ImageState.Downloading(3L << 20, 12L << 20))));
        VirtualMachineInstanceStatus waiting = VmiStatusFactory.awaitingImages(
                Vmis.vmi("debian", "node-a", "1Gi", "idle", InstanceState.Running), NODE, downloading);
        assertThat(waiting.getPhase()).isEqualTo(InstancePhase.Pending);
        assertThat(ready(waiting).getReason()).isEqualTo("ImageDownloading");
        assertThat(ready(waiting).getMessage()).isEqualTo(
                "spec.disks[0].source.http (disk root): downloading from images.example:8080, 3.0 MiB of 12.0 MiB (25%)");
        assertThat(waiting.getImages()).singleElement().satisfies(i -> {
            assertThat(i.getDownloadedBytes()).isEqualTo(3L << 20);
            assertThat(i.getTotalBytes()).isEqualTo(12L << 20);
            assertThat(i.getSha256()).isEqualTo(sha);
        });

        var failed = new io.kubevmm.node.images.ImagesNotReady(List.of(new io.kubevmm.node.images.ImagesNotReady.DiskImage(
                "root", "spec.disks[0].source.http", sha, "images.example:8080",
                new io.kubevmm.node.images.ImageState.Failed(io.kubevmm.node.images.ImageState.Reason.ImageUnreachable,
                        "cannot connect to images.example:8080 (ConnectException)", T.plusSeconds(30)))));
        VirtualMachineInstanceStatus refused = VmiStatusFactory.awaitingImages(
                Vmis.vmi("debian", "node-a", "1Gi", "idle", InstanceState.Running), NODE, failed);
        assertThat(refused.getPhase()).isEqualTo(InstancePhase.Failed);
        Condition failure = refused.getConditions().stream().filter(c -> c.getType().equals("Failure")).findFirst().orElseThrow();
        assertThat(failure.getReason()).isEqualTo("ImageUnreachable");
        assertThat(failure.getMessage()).isEqualTo("spec.disks[0].source.http (disk root): cannot connect to images.example:8080 (ConnectException)");
        assertThat(refused.getImages()).singleElement().satisfies(i -> assertThat(i.getReason()).isEqualTo("ImageUnreachable"));
    }
}
