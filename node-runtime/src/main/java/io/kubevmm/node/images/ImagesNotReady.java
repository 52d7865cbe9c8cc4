package io.kubevmm.node.images;

import io.kubevmm.api.v1alpha1.ImageStatus;

import java.util.ArrayList;
import java.util.List;

/**
 * A VM's disks name downloaded images that are not in the node's cache yet, or whose download
 * failed: the VM cannot be configured until they are. Carries every such disk, so status shows
 * the progress of each.
 */
public final class ImagesNotReady extends RuntimeException {
    /** One disk's image: {@code field} is the spec field it came from ({@code spec.disks[0].source.http}). */
    public record DiskImage(String disk, String field, String sha256, String host, ImageState state) { }

    private final transient List<DiskImage> disks;

    public ImagesNotReady(List<DiskImage> disks) {
        super(describe(disks));
        this.disks = List.copyOf(disks);
    }

    public List<DiskImage> disks() { return disks; }

    /** The first failed disk, if any failed (the others may still be downloading). */
    public java.util.Optional<DiskImage> failed() {
        return disks.stream().filter(d -> d.state() instanceof ImageState.Failed).findFirst();
    }

    /** Each disk's download as status shows it (VMI {@code status.images}, a migration target's facts). */
    public List<ImageStatus> statuses() {
        List<ImageStatus> images = new ArrayList<>();
        for (DiskImage d : disks) {
            ImageStatus image = new ImageStatus();
            image.setDisk(d.disk());
            image.setSha256(d.sha256());
            switch (d.state()) {
                case ImageState.Downloading p -> {
                    image.setPhase(ImageStatus.Phase.Downloading);
                    image.setDownloadedBytes(p.bytes());
                    image.setTotalBytes(p.totalBytes() < 0 ? null : p.totalBytes());
                    image.setMessage("downloading from " + d.host() + ": " + p.progress());
                }
                case ImageState.Failed f -> {
                    image.setPhase(ImageStatus.Phase.Failed);
                    image.setReason(f.reason().name());
                    image.setMessage(d.field() + ": " + f.message() + "; tried again after " + f.retryAt());
                }
                case ImageState.Ready r -> image.setPhase(ImageStatus.Phase.Ready);
            }
            images.add(image);
        }
        return images;
    }

    static String describe(List<DiskImage> disks) {
        StringBuilder b = new StringBuilder();
        for (DiskImage d : disks) {
            if (!b.isEmpty()) {
                b.append("; ");
            }
            b.append(d.field()).append(" (disk ").append(d.disk()).append("): ").append(switch (d.state()) {
                case ImageState.Failed f -> f.reason() + ": " + f.message() + " (retried after " + f.retryAt() + ")";
                case ImageState.Downloading p -> "downloading from " + d.host() + ", " + p.progress();
                case ImageState.Ready r -> "ready";
            });
        }
        return b.toString();
    }
}
