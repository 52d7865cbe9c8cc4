package io.kubevmm.node.lifecycle;

import io.kubevmm.api.validation.PathRules;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Resolves the files a VM spec names (kernel, initrd, disk bases) on this node, for real, before
 * anything opens them: the name must pass {@link PathRules}, and the file it reaches after every
 * symlink ({@code toRealPath}) must be a regular file inside the image directory, and not a file
 * of a VM's state directory or of the snapshot store, even where those directories lie inside the
 * image directory. Messages name the field and never the host path a symlink leads to.
 */
public final class ImagePaths {

    /** A spec value this node refuses (a path it will not open, an overlay attachment it cannot use); {@code reason} is the status reason. */
    public static final class Refused extends RuntimeException {
        private final String field;
        private final String reason;

        public Refused(String field, String reason, String message) {
            super(field + " " + message);
            this.field = field;
            this.reason = reason;
        }

        public String field() { return field; }

        public String reason() { return reason; }
    }

    private final Path imageDir;
    private final List<Path> forbidden;

    /**
     * @param imageDir  where spec paths resolve
     * @param stateDir  the node's state dir: its {@code vms/} and {@code snapshots/} are never images,
     *                  nor is any of it unless the image dir lies inside it
     */
    public ImagePaths(Path imageDir, Path stateDir) {
        this.imageDir = imageDir.toAbsolutePath().normalize();
        Path state = stateDir.toAbsolutePath().normalize();
        List<Path> roots = new ArrayList<>(List.of(state.resolve("vms"), state.resolve("snapshots")));
        if (!real(this.imageDir).startsWith(real(state))) {
            roots.add(state);
        }
        this.forbidden = roots;
    }

    /**
     * The real path of {@code relative} in the image directory, for {@code field} (e.g.
     * {@code spec.disks[0].source.path}). A file that does not exist yet resolves to its place in
     * the image directory (the engine then reports it missing), provided the part that exists is
     * inside it.
     * @throws Refused when the path is not allowed
     */
    public Path resolve(String field, String relative) {
        Optional<String> problem = PathRules.problem(relative);
        if (problem.isPresent()) {
            throw new Refused(field, "InvalidSpec", problem.get());
        }
        Path root = real(imageDir);
        Path candidate = root.resolve(relative).normalize();
        Path resolved;
        boolean exists;
        try {
            resolved = candidate.toRealPath();
            exists = true;
        } catch (NoSuchFileException e) {
            if (danglingLink(candidate)) {
                throw new Refused(field, "ForbiddenPath", quoted(relative)
                        + " is a symbolic link to nothing; only files in the image directory can be used");
            }
            resolved = realOfExistingPart(candidate);
            exists = false;
        } catch (IOException e) {
            throw new Refused(field, "ForbiddenPath", quoted(relative) + " cannot be resolved in the node's image directory: "
                    + e.getClass().getSimpleName());
        }
        if (!resolved.startsWith(root)) {
            throw new Refused(field, "ForbiddenPath", quoted(relative)
                    + " leads out of the node's image directory (through a symbolic link); only files in the image directory can be used");
        }
        for (Path f : forbidden) {
            if (resolved.startsWith(real(f))) {
                throw new Refused(field, "ForbiddenPath", quoted(relative)
                        + " is a file of a VM's state directory or of the snapshot store; VM state and snapshots cannot be used as boot files or disks");
            }
        }
        if (exists && !Files.isRegularFile(resolved)) {
            throw new Refused(field, "ForbiddenPath", quoted(relative)
                    + " is not a regular file (devices, directories, sockets and pipes cannot be used); give an image file");
        }
        return exists ? resolved : candidate;
    }

    private static String quoted(String relative) {
        return "\"" + relative + "\"";
    }

    /** Whether the deepest part of {@code path} that exists (not following links) is a symlink to nothing. */
    private static boolean danglingLink(Path path) {
        for (Path p = path; p != null; p = p.getParent()) {
            if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                return Files.isSymbolicLink(p) && !Files.exists(p);
            }
        }
        return false;
    }

    /** The real path of the longest existing prefix of {@code path}, with the rest appended. */
    private static Path realOfExistingPart(Path path) {
        Path existing = path;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return path;
        }
        return real(existing).resolve(existing.relativize(path)).normalize();
    }

    /** {@code toRealPath} where the file exists, else the normalized absolute path. */
    private static Path real(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            return p.toAbsolutePath().normalize();
        }
    }
}
