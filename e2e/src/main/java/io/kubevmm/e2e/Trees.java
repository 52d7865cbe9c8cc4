package io.kubevmm.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Deletes the local cluster's directory trees. The launcher ({@code bin/kubevmm local}) runs with
 * this module's runtime classpath, which holds no node-runtime class, so it cannot use the node
 * runtime's own {@code FileTree}; the rule is the same: deepest first, links removed, never followed.
 */
final class Trees {
    private Trees() { }

    static void delete(Path root) throws IOException {
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
