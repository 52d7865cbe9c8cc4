package io.kubevmm.e2e;

import java.nio.file.Path;

/** Where a local cluster keeps its files (default {@code <repo>/.kubevmm/}). */
public record ClusterHome(Path dir) {
    public Path kubeconfig() { return dir.resolve("kubeconfig"); }

    /** The node API bearer token, shared by the local cluster's node runtimes and read by the CLI. */
    public Path nodeToken() { return dir.resolve("node-token"); }

    public Path pidFile(String process) { return dir.resolve("pids").resolve(process + ".pid"); }

    public Path log(String process) { return dir.resolve("logs").resolve(process + ".log"); }

    public Path nodeStateDir(String node) { return dir.resolve("nodes").resolve(node); }

    public Path nodesDir() { return dir.resolve("nodes"); }

    /** The kubeconfig a process of the cluster runs with: its own ServiceAccount's token. */
    public Path identity(String process) { return identitiesDir().resolve(process + ".kubeconfig"); }

    public Path identitiesDir() { return dir.resolve("identities"); }
}
