package io.kubevmm.node.lifecycle;

import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import io.kubevmm.node.files.FileTree;

/**
 * Disks live as long as their VirtualMachine. When a VM's instance goes away (stop, state
 * {@code Defined}), its state dir keeps only the disk layers ({@code disk-*}) and the uid of the
 * VirtualMachine they belong to ({@value #OWNER_FILE}); everything of the runtime (sockets,
 * pidfile, console, saved memory) goes. The disks are deleted only when the VM itself is
 * deleted: told by the operator ({@code kubevmm.io/delete-disks} on the VMI), or found out by
 * asking the API ({@link #decide}). Pure decisions plus the file operations they imply.
 */
public final class DiskRetention {
    private static final Logger LOG = Logger.getLogger(DiskRetention.class);
    /** The uid of the VirtualMachine whose disks a state dir holds. */
    static final String OWNER_FILE = "vm.uid";

    private DiskRetention() { }

    /** What the API says about the VirtualMachine a state dir is named for. */
    public record VmLookup(boolean answered, boolean exists, String uid, boolean deleting) {
        /** The API could not be asked: nothing may be deleted on that basis. */
        public static VmLookup unknown() { return new VmLookup(false, false, null, false); }

        public static VmLookup absent() { return new VmLookup(true, false, null, false); }

        public static VmLookup present(String uid, boolean deleting) { return new VmLookup(true, true, uid, deleting); }
    }

    /** Keep the disks, or delete the whole state dir; with the reason, for the log. */
    public record Decision(boolean deleteDisks, String reason) { }

    /**
     * Whether the disks in a state dir without an instance may go: only when its VirtualMachine
     * is gone, is being deleted, or is a newer VM of the same name (another uid). On any doubt
     * (API unreachable) they stay.
     */
    public static Decision decide(VmLookup vm, String recordedUid) {
        if (!vm.answered()) {
            return new Decision(false, "the API did not answer whether its VirtualMachine exists");
        }
        if (!vm.exists()) {
            return new Decision(true, "its VirtualMachine no longer exists");
        }
        if (recordedUid != null && vm.uid() != null && !recordedUid.equals(vm.uid())) {
            return new Decision(true, "they belonged to an earlier VirtualMachine of that name (uid " + recordedUid
                    + "; the current one is " + vm.uid() + ")");
        }
        if (vm.deleting()) {
            return new Decision(true, "its VirtualMachine is being deleted");
        }
        return new Decision(false, "its VirtualMachine exists: disks live as long as the VM");
    }

    /**
     * A file that is part of a disk: a qcow2 layer or the pointer to the active layer; and the
     * VM's UEFI variables ({@code uefi-vars.fd}), kept with the disks because they are the
     * firmware's non-volatile store (boot entries) of the same machine.
     */
    static boolean isDiskFile(String fileName) {
        return fileName.equals("uefi-vars.fd")
                || fileName.startsWith("disk-") && (fileName.endsWith(".qcow2") || fileName.endsWith(".active"));
    }

    /**
     * Removes everything of a VM's state dir but its disks and owner record; a dir left without
     * any disk is removed entirely. Returns whether disks remain.
     */
    public static boolean keepDisksOnly(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        boolean disks = false;
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                if (isDiskFile(name)) {
                    disks = true;
                } else if (!name.equals(OWNER_FILE)) {
                    FileTree.delete(f);
                }
            }
        }
        if (!disks) {
            FileTree.delete(dir);
        }
        return disks;
    }

    /** The uid of the VirtualMachine whose disks the dir holds, if recorded. */
    public static Optional<String> owner(Path dir) {
        Path file = dir.resolve(OWNER_FILE);
        try {
            return Files.exists(file) ? Optional.of(Files.readString(file, StandardCharsets.UTF_8).strip()).filter(s -> !s.isEmpty())
                    : Optional.empty();
        } catch (IOException e) {
            LOG.warnf("cannot read %s: %s", file, e.getMessage());
            return Optional.empty();
        }
    }

    /** Records whose disks the dir holds (created if missing). */
    static void recordOwner(Path dir, String uid) throws IOException {
        Files.createDirectories(dir);
        Path tmp = dir.resolve(OWNER_FILE + ".tmp");
        Files.writeString(tmp, uid + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, dir.resolve(OWNER_FILE), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    /** True if the dir holds at least one disk file. */
    static boolean holdsDisks(Path dir) {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (var files = Files.list(dir)) {
            return files.anyMatch(f -> isDiskFile(f.getFileName().toString()));
        } catch (IOException e) {
            return true; // unknown: assume there is something worth keeping
        }
    }

}
