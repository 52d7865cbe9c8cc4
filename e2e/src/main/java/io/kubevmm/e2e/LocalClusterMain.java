package io.kubevmm.e2e;

import java.nio.file.Path;
import java.util.List;

/**
 * {@code bin/kubevmm local up [--nodes N] [--node-memory Q] | status | down}; run from the
 * repository root (bin/kubevmm-local does).
 */
public final class LocalClusterMain {
    public static void main(String[] args) throws Exception {
        Path repo = Path.of(System.getProperty("kubevmm.repo.root", "."));
        LocalCluster cluster = new LocalCluster(repo, repo.resolve(".kubevmm"), System.out);
        String command = args.length == 0 ? "status" : args[0];
        try {
            switch (command) {
                case "up" -> {
                    int nodes = 2;
                    String memory = "4Gi";
                    for (int i = 1; i < args.length; i++) {
                        switch (args[i]) {
                            case "--nodes" -> nodes = Integer.parseInt(args[++i]);
                            case "--node-memory" -> memory = args[++i];
                            default -> throw new IllegalArgumentException("unknown option " + args[i] + " (use --nodes N, --node-memory 4Gi)");
                        }
                    }
                    cluster.up(nodes, memory);
                }
                case "down" -> {
                    List<String> stopped = cluster.down();
                    System.out.println(stopped.isEmpty() ? "nothing was running" : "stopped: " + String.join(", ", stopped));
                }
                case "status" -> cluster.status();
                default -> throw new IllegalArgumentException("unknown command '" + command + "' (use up, status, down)");
            }
        } catch (IllegalStateException | IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(1);
        }
    }
}
