package io.kubevmm.node.controller;

import io.kubevmm.api.v1alpha1.ImageStatus;
import io.kubevmm.node.events.EventRecorder;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceStatus;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The Events a VMI gets about its downloaded images, from one status to the next: a download
 * starting ({@code ImageDownloading}), failing (Warning with the failure's reason, e.g.
 * {@code ImageChecksumMismatch}) and all images arriving ({@code ImagesReady}).
 */
final class ImageEvents {
    private ImageEvents() { }

    static void announce(EventRecorder events, VirtualMachineInstance vmi, VirtualMachineInstanceStatus before,
                         VirtualMachineInstanceStatus after) {
        List<ImageStatus> was = before == null || before.getImages() == null ? List.of() : before.getImages();
        List<ImageStatus> now = after.getImages() == null ? List.of() : after.getImages();
        for (ImageStatus image : now) {
            Optional<ImageStatus> previous = was.stream().filter(i -> Objects.equals(i.getDisk(), image.getDisk())).findFirst();
            boolean changed = previous.isEmpty() || previous.get().getPhase() != image.getPhase()
                    || !Objects.equals(previous.get().getReason(), image.getReason());
            if (!changed) {
                continue;
            }
            if (image.getPhase() == ImageStatus.Phase.Downloading) {
                events.normal(vmi, "ImageDownloading", "disk " + image.getDisk() + ": " + image.getMessage());
            } else if (image.getPhase() == ImageStatus.Phase.Failed) {
                events.warning(vmi, image.getReason(), "disk " + image.getDisk() + ": " + image.getMessage());
            }
        }
        if (!was.isEmpty() && now.isEmpty()) {
            events.normal(vmi, "ImagesReady", "every downloaded base image is verified and in the node's image cache");
        }
    }
}
