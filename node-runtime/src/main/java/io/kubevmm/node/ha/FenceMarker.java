package io.kubevmm.node.ha;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The file in a VM's state dir that says "fence this guest when the node loses its Lease": the
 * node runtime and the fence guard (a shell script reading the same dirs) both go by it, so a
 * guest's fencing does not depend on the node runtime being alive to tell.
 */
public final class FenceMarker {
    /** Also named in kubevmm-fence-guard.sh. */
    public static final String FILE = "fence-on-node-loss";

    private FenceMarker() { }

    public static boolean marked(Path vmStateDir) {
        return Files.exists(vmStateDir.resolve(FILE));
    }

    /** Creates or removes the marker; written before the guest boots. */
    public static void set(Path vmStateDir, boolean fenced) throws IOException {
        Path marker = vmStateDir.resolve(FILE);
        if (fenced) {
            Files.createDirectories(vmStateDir);
            if (!Files.exists(marker)) {
                Files.writeString(marker, "highAvailability mode Restart: killed when this node loses its Lease (docs/ha.md)\n");
            }
        } else {
            Files.deleteIfExists(marker);
        }
    }
}
