package io.kubevmm.node.engine.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.engine.EngineException.Reason;
import io.kubevmm.node.engine.VmConfig;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Disk images through {@code qemu-img}: empty qcow2 disks and copy-on-write overlays. */
final class QemuImages {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final String qemuImg;

    QemuImages(String qemuImg) {
        this.qemuImg = qemuImg;
    }

    /** Creates the VM's disks that do not exist yet; existing ones keep their content. */
    void ensureDisks(VmConfig config) throws EngineException {
        for (VmConfig.Disk disk : config.disks()) {
            Path file = disk.file(config.stateDir());
            if (Files.exists(file) || Files.exists(DiskLayers.activeLayer(config, disk))) {
                continue;
            }
            create(disk, file);
        }
    }

    /** A new disk image at {@code file}: empty, or an overlay on the disk's base image. */
    void create(VmConfig.Disk disk, Path file) throws EngineException {
        List<String> cmd = new ArrayList<>(List.of(qemuImg, "create", "-q", "-f", "qcow2"));
        if (disk.baseImage() != null) {
            if (!Files.isReadable(disk.baseImage())) {
                throw new EngineException(Reason.MissingFile, "disk '" + disk.name() + "': base image "
                        + disk.baseImage() + " does not exist on this node; put it in the node's image directory");
            }
            // The format is read from the file's magic by us and given explicitly: QEMU never probes a user-named file.
            cmd.addAll(List.of("-b", disk.baseImage().toAbsolutePath().toString(), "-F", BaseImageFormat.of(disk.name(), disk.baseImage())));
        }
        cmd.add(file.toString());
        if (disk.sizeBytes() > 0) {
            cmd.add(Long.toString(disk.sizeBytes()));
        }
        run(cmd, "create disk '" + disk.name() + "'");
    }

    /**
     * An empty qcow2 overlay on {@code backing}, which is written into the header as given (a bare
     * file name resolves in the overlay's own directory). The backing file is not opened: a
     * running QEMU may hold it.
     */
    void createOverlay(Path overlay, String backing, long virtualSize) throws EngineException {
        run(List.of(qemuImg, "create", "-q", "-f", "qcow2", "-u", "-b", backing, "-F", "qcow2",
                overlay.toString(), Long.toString(virtualSize)), "create overlay " + overlay);
    }

    /** Every file of {@code image}'s chain, top first, as absolute paths (also while QEMU holds them). */
    List<Path> backingChain(Path image) throws EngineException {
        String out = run(List.of(qemuImg, "info", "-U", "--backing-chain", "--output=json", image.toString()), "inspect " + image);
        try {
            List<Path> chain = new ArrayList<>();
            for (JsonNode layer : JSON.readTree(out)) {
                chain.add(Path.of(layer.path("filename").asText()).toAbsolutePath().normalize());
            }
            return chain;
        } catch (IOException e) {
            throw new EngineException(Reason.OperationFailed, "qemu-img info " + image + " printed no JSON: " + out, e);
        }
    }

    long virtualSize(Path image) throws EngineException {
        String out = run(List.of(qemuImg, "info", "-U", "--output=json", image.toString()), "inspect " + image);
        try {
            return JSON.readTree(out).path("virtual-size").asLong();
        } catch (IOException e) {
            throw new EngineException(Reason.OperationFailed, "qemu-img info " + image + " printed no JSON: " + out, e);
        }
    }

    /** Safe rebase: copies into {@code image} whatever it loses by the new backing ({@code ""} = none). */
    void rebase(Path image, String newBacking) throws EngineException {
        List<String> cmd = new ArrayList<>(List.of(qemuImg, "rebase", "-q", "-f", "qcow2", "-b", newBacking));
        if (!newBacking.isEmpty()) {
            cmd.addAll(List.of("-F", "qcow2"));
        }
        cmd.add(image.toString());
        run(cmd, "rebase " + image);
    }

    private String run(List<String> cmd, String what) throws EngineException {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new EngineException(Reason.OperationFailed, "qemu-img did not finish: " + what);
            }
            String text = new String(out, StandardCharsets.UTF_8).strip();
            if (p.exitValue() != 0) {
                throw new EngineException(Reason.OperationFailed, "qemu-img could not " + what + ": " + text);
            }
            return text;
        } catch (IOException e) {
            throw new EngineException(Reason.OperationFailed, "cannot run " + qemuImg + " to " + what + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException(Reason.OperationFailed, "interrupted while trying to " + what, e);
        }
    }
}
