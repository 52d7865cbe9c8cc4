package io.kubevmm.node.engine.qemu;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.engine.EngineException.Reason;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.files.FileTree;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Writes a VM's NoCloud seed: a FAT image labelled {@code CIDATA} holding {@code meta-data},
 * {@code user-data} and, when given, {@code network-config}, made with Debian's dosfstools and
 * mtools (no mount). The image is the same byte for byte whenever its content is (fixed volume
 * serial and file times), so the seed a migration target or a restart writes is the one the guest
 * read before.
 *
 * <p>The meta-data is JSON (YAML accepts it), written by a JSON writer: a user's key or name can
 * never start a YAML construct of its own. The documents are written to files and copied into the
 * image; none of them reaches a command line.
 */
final class CloudInitSeed {
    /** Seed size: the documents are at most 64 KiB each (validated), so 1 MiB leaves room. */
    static final int SIZE_KIB = 1024;
    /** The time every file of the seed carries (FAT cannot hold times before 1980). */
    private static final FileTime FILE_TIME = FileTime.fromMillis(946_684_800_000L); // 2000-01-01T00:00:00Z
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long TOOL_TIMEOUT_SECONDS = 30;
    private static final java.util.Set<java.nio.file.attribute.PosixFilePermission> PRIVATE_DIR =
            java.nio.file.attribute.PosixFilePermissions.fromString("rwx------");
    private static final java.util.Set<java.nio.file.attribute.PosixFilePermission> PRIVATE_FILE =
            java.nio.file.attribute.PosixFilePermissions.fromString("rw-------");

    private final String mkfs;
    private final String mcopy;

    CloudInitSeed(String mkfs, String mcopy) {
        this.mkfs = mkfs;
        this.mcopy = mcopy;
    }

    CloudInitSeed() {
        this("mkfs.vfat", "mcopy");
    }

    /** The meta-data document: instance-id, local-hostname and the SSH keys. */
    static String metaData(VmConfig.CloudInit cloudInit) {
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("instance-id", cloudInit.instanceId());
        meta.put("local-hostname", cloudInit.hostname());
        if (!cloudInit.sshAuthorizedKeys().isEmpty()) {
            meta.put("public-keys", cloudInit.sshAuthorizedKeys());
        }
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(meta) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes {@link VmConfig#cloudInitSeed()} for {@code config}, or removes a stale one when it has no cloud-init. */
    void write(VmConfig config) throws EngineException {
        Path seed = config.cloudInitSeed();
        VmConfig.CloudInit cloudInit = config.cloudInit();
        Path work = config.stateDir().resolve("cidata.tmp");
        try {
            if (cloudInit == null) {
                Files.deleteIfExists(seed);
                return;
            }
            byte[] userData = cloudInit.userData().read();
            FileTree.delete(work);
            Files.createDirectories(work);
            Files.setPosixFilePermissions(work, PRIVATE_DIR);
            List<Path> files = new ArrayList<>();
            files.add(document(work, "meta-data", metaData(cloudInit).getBytes(StandardCharsets.UTF_8)));
            files.add(document(work, "user-data", userData));
            if (cloudInit.networkData() != null) {
                files.add(document(work, "network-config", cloudInit.networkData().getBytes(StandardCharsets.UTF_8)));
            }
            Path image = work.resolve("cidata.img");
            run(config, List.of(mkfs, "--invariant", "-n", "CIDATA", "-C", image.toString(), Integer.toString(SIZE_KIB)));
            List<String> copy = new ArrayList<>(List.of(mcopy, "-m", "-i", image.toString()));
            files.forEach(f -> copy.add(f.toString()));
            copy.add("::");
            run(config, copy);
            Files.move(image, seed, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            Files.setPosixFilePermissions(seed, PRIVATE_FILE);
        } catch (IOException e) {
            throw new EngineException(Reason.OperationFailed, "cannot write the cloud-init seed of " + config.id() + ": " + e.getMessage(), e);
        } finally {
            try {
                FileTree.delete(work); // the documents may hold a Secret's content
            } catch (IOException ignored) {
                // the next write removes it
            }
        }
    }

    private static Path document(Path dir, String name, byte[] content) throws IOException {
        Path file = dir.resolve(name);
        Files.write(file, content);
        Files.setLastModifiedTime(file, FILE_TIME);
        return file;
    }

    private static void run(VmConfig config, List<String> command) throws IOException, EngineException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("TZ", "UTC"); // FAT keeps local times: UTC makes them the same on every node
        builder.environment().put("MTOOLS_SKIP_CHECK", "1");
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new EngineException(Reason.MissingFile, "spec.cloudInit: the node cannot run " + command.getFirst()
                    + " to write the seed disk; install Debian's dosfstools and mtools on the node (" + e.getMessage() + ")", e);
        }
        try {
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!process.waitFor(TOOL_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new EngineException(Reason.OperationFailed, command.getFirst() + " did not finish the cloud-init seed of "
                        + config.id() + " in " + TOOL_TIMEOUT_SECONDS + " s");
            }
            if (process.exitValue() != 0) {
                throw new EngineException(Reason.OperationFailed, command.getFirst() + " failed writing the cloud-init seed of "
                        + config.id() + " (exit " + process.exitValue() + "): " + output);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new EngineException(Reason.OperationFailed, "interrupted writing the cloud-init seed of " + config.id(), e);
        }
    }
}
