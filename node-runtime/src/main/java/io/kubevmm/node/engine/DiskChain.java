package io.kubevmm.node.engine;

import java.nio.file.Path;
import java.util.List;

/**
 * The qcow2 layers that hold one disk's content as of a snapshot.
 *
 * <p>Layers are immutable once frozen by a snapshot; each one names the layer below it by its
 * bare file name, so a set of layers keeps working when hard-linked or copied together into
 * another directory (a snapshot's store directory, a clone's state dir).
 *
 * @param disk      the disk's name in {@link VmConfig#disks()}
 * @param layers    the disk's own layers, top (the frozen state) first, bottom last
 * @param baseImage the node-wide image below the bottom layer ({@code disks[].source}), or null
 */
public record DiskChain(String disk, List<Path> layers, Path baseImage) {
    public DiskChain {
        layers = List.copyOf(layers);
        if (layers.isEmpty()) {
            throw new IllegalArgumentException("disk '" + disk + "' has no layers");
        }
    }

    /** The layer a restored guest's fresh overlay goes on. */
    public Path top() { return layers.getFirst(); }
}
