package io.kubevmm.node.engine.qemu;

import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.engine.EngineException.Reason;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.stream.Stream;

/**
 * The unprivileged user QEMU drops to ({@code -runas} / {@code -run-with user=}) once it has
 * opened what its command line names. A VM's state dir becomes that user's (mode 0700), so its
 * QEMU can reach its own files and no other VM's; the image dir must be readable by it.
 */
final class QemuUser {
    private final String name;

    QemuUser(String name) {
        this.name = name;
        try {
            FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByName(name);
        } catch (IOException e) {
            throw new IllegalArgumentException("kubevmm.node.qemu.user \"" + name + "\" is not a user on this host: " + e.getMessage(), e);
        }
    }

    String name() { return name; }

    /** Hands {@code stateDir} and everything in it to the QEMU user; nothing outside it. */
    void own(Path stateDir) throws EngineException {
        try {
            UserPrincipal owner = FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByName(name);
            try (Stream<Path> files = Files.walk(stateDir)) {
                for (Path f : files.toList()) {
                    Files.getFileAttributeView(f, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setOwner(owner);
                }
            }
            Files.setPosixFilePermissions(stateDir, PosixFilePermissions.fromString("rwx------"));
        } catch (IOException e) {
            throw new EngineException(Reason.OperationFailed, "cannot hand " + stateDir + " to QEMU user " + name + ": " + e.getMessage(), e);
        }
    }
}
