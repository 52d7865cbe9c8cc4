package io.kubevmm.e2e;

import java.nio.file.Path;
import java.util.List;

/**
 * {@code bin/kubevmm local up [--nodes N] [--node-memory Q] [--same-host] | status | down [--purge]}; run from the
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
                            case "--same-host" -> cluster.sameHost();
                            default -> throw new IllegalArgumentException("unknown option " + args[i]
                                    + " (use --nodes N, --node-memory 4Gi, --same-host)");
                        }
                    }
                    cluster.up(nodes, memory);
                }
                case "down" -> {
                    boolean purge = List.of(args).subList(1, args.length).contains("--purge");
                    for (int i = 1; i < args.length; i++) {
                        if (!args[i].equals("--purge")) {
                            throw new IllegalArgumentException("unknown option " + args[i] + " (use --purge)");
                        }
                    }
                    List<String> stopped = cluster.down(purge);
                    System.out.println(stopped.isEmpty() ? "nothing was running" : "stopped: " + String.join(", ", stopped));
                    System.out.println(purge ? "removed its data (objects, disks, snapshots, keys)"
                            : "its data is kept for the next `local up` (VMs, disks, snapshots); `local down --purge` removes it");
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
