package io.kubevmm.node.engine.qemu;

import io.kubevmm.node.engine.DiskChain;
import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.engine.EngineException.Reason;
import io.kubevmm.node.engine.VmConfig;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A VM's qcow2 layers in its state dir. The first layer of disk {@code data} is
 * {@code disk-data.qcow2}; each snapshot freezes the active layer and adds
 * {@code disk-data.<n>.qcow2} on top, named in the pointer file {@code disk-data.active}.
 * Overlays we create name their backing layer by bare file name, so a chain stays valid when
 * hard-linked into a snapshot's directory or a clone's state dir.
 */
final class DiskLayers {
    private final QemuImages images;

    DiskLayers(QemuImages images) {
        this.images = images;
    }

    QemuImages images() { return images; }

    static Path pointer(VmConfig config, VmConfig.Disk disk) {
        return config.stateDir().resolve("disk-" + disk.name() + ".active");
    }

    /** The layer the guest writes to (and the one a launch opens). */
    static Path activeLayer(VmConfig config, VmConfig.Disk disk) {
        Path pointer = pointer(config, disk);
        try {
            if (Files.exists(pointer)) {
                return config.stateDir().resolve(Files.readString(pointer, StandardCharsets.UTF_8).strip());
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + pointer + ": " + e.getMessage(), e);
        }
        return disk.file(config.stateDir());
    }

    static Map<String, Path> activeLayers(VmConfig config) {
        Map<String, Path> active = new LinkedHashMap<>();
        for (VmConfig.Disk disk : config.disks()) {
            active.put(disk.name(), activeLayer(config, disk));
        }
        return active;
    }

    /** Points the disk at {@code layer}; atomic, so a crash leaves the old or the new pointer. */
    static void setActive(VmConfig config, VmConfig.Disk disk, Path layer) throws EngineException {
        Path pointer = pointer(config, disk);
        Path tmp = pointer.resolveSibling(pointer.getFileName() + ".tmp");
        try {
            Files.writeString(tmp, layer.getFileName().toString() + "\n", StandardCharsets.UTF_8);
            Files.move(tmp, pointer, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new EngineException(Reason.OperationFailed, "cannot switch disk '" + disk.name() + "' of " + config.id()
                    + " to " + layer + ": " + e.getMessage(), e);
        }
    }

    /** A free name for the disk's next layer: {@code disk-<name>.<n>.qcow2} above every existing n. */
    static Path nextLayer(VmConfig config, VmConfig.Disk disk) throws EngineException {
        Pattern numbered = Pattern.compile(Pattern.quote("disk-" + disk.name() + ".") + "(\\d+)\\.qcow2");
        int max = 0;
        try (var files = Files.list(config.stateDir())) {
            for (Path f : files.toList()) {
                Matcher m = numbered.matcher(f.getFileName().toString());
                if (m.matches()) {
                    max = Math.max(max, Integer.parseInt(m.group(1)));
                }
            }
        } catch (IOException e) {
            throw new EngineException(Reason.OperationFailed, "cannot list " + config.stateDir() + ": " + e.getMessage(), e);
        }
        return config.stateDir().resolve("disk-" + disk.name() + "." + (max + 1) + ".qcow2");
    }

    /** Creates the empty overlay that will go on top of {@code top} (which stays where it is). */
    Path prepareOverlay(VmConfig config, VmConfig.Disk disk, Path top, long virtualSize) throws EngineException {
        Path overlay = nextLayer(config, disk);
        String backing = top.getParent().equals(overlay.getParent()) ? top.getFileName().toString() : top.toString();
        images.createOverlay(overlay, backing, virtualSize);
        return overlay;
    }

    /** The chain from {@code top} down: layers in the VM's state dir, and the node-wide image below them. */
    DiskChain chainFrom(VmConfig config, VmConfig.Disk disk, Path top) throws EngineException {
        List<Path> local = new ArrayList<>();
        Path base = null;
        Path dir = top.toAbsolutePath().normalize().getParent();
        for (Path layer : images.backingChain(top)) {
            if (base == null && layer.getParent().equals(dir)) {
                local.add(layer);
            } else if (base == null) {
                base = layer; // the node image; whatever it is based on is the image's own business
            }
        }
        return new DiskChain(disk.name(), local, base);
    }

    /**
     * Puts {@code file} into {@code dir} under the same name: a hard link (no copy, same inode),
     * or a copy across file systems. A file already there must be the same one.
     */
    static Path linkInto(Path file, Path dir) throws EngineException {
        Path target = dir.resolve(file.getFileName().toString());
        try {
            if (Files.exists(target)) {
                if (Files.isSameFile(target, file)) {
                    return target;
                }
                throw new EngineException(Reason.OperationFailed, target + " exists and is not " + file
                        + "; refusing to overwrite a disk layer");
            }
            try {
                Files.createLink(target, file);
            } catch (IOException | UnsupportedOperationException notSameFileSystem) {
                Path tmp = dir.resolve(target.getFileName() + ".copying");
                Files.copy(file, tmp, StandardCopyOption.REPLACE_EXISTING);
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            }
            return target;
        } catch (IOException e) {
            throw new EngineException(Reason.OperationFailed, "cannot put " + file + " into " + dir + ": " + e.getMessage(), e);
        }
    }

    /** How many names the file has: 1 means only the VM's own chain still uses it. */
    static int linkCount(Path file) {
        try {
            return ((Number) Files.getAttribute(file, "unix:nlink")).intValue();
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return 2; // unknown: treat as shared, never merge away what might be used
        }
    }

    /**
     * Of the active layer's chain, the layers right below it that nothing else references (a run
     * of link count 1), and the backing the active layer gets once they are merged into it.
     */
    record Merge(Path active, List<Path> unshared, Path newBacking) {
        boolean needed() { return !unshared.isEmpty(); }

        /** What to write into the active layer's header: bare name for a local layer, "" for none. */
        String newBackingName() {
            if (newBacking == null) {
                return "";
            }
            return newBacking.getParent().equals(active.getParent()) ? newBacking.getFileName().toString() : newBacking.toString();
        }
    }

    Merge planMerge(VmConfig config, VmConfig.Disk disk) throws EngineException {
        Path active = activeLayer(config, disk).toAbsolutePath().normalize();
        List<Path> chain = images.backingChain(active);
        List<Path> unshared = new ArrayList<>();
        Path newBacking = null;
        for (int i = 1; i < chain.size(); i++) {
            Path layer = chain.get(i);
            boolean local = layer.getParent().equals(active.getParent());
            if (local && linkCount(layer) == 1) {
                unshared.add(layer);
            } else {
                newBacking = layer;
                break;
            }
        }
        return new Merge(active, unshared, newBacking);
    }

    static void deleteLayers(List<Path> layers) {
        for (Path layer : layers) {
            try {
                Files.deleteIfExists(layer);
            } catch (IOException e) {
                // a leftover file costs space, never correctness: nothing references it any more
            }
        }
    }
}
