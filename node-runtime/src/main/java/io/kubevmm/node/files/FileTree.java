package io.kubevmm.node.files;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Whole directory trees on the node's disk: state dirs, snapshot dirs, pending transfers. */
public final class FileTree {
    private FileTree() { }

    /**
     * Deletes {@code root} and everything under it, deepest first; nothing there is fine. Symbolic
     * links are removed, never followed, so a link into the image dir cannot take its target along.
     */
    public static void delete(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
