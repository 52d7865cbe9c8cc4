package io.kubevmm.cli;

import io.fabric8.kubernetes.client.KubernetesClient;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * What the CLI takes from the world outside its arguments: environment variables, the current
 * and home directories, and (in tests) a ready Kubernetes client. Passed in rather than read
 * from System so commands run in-process against a mock API server.
 *
 * @param client a client to use instead of one built from a kubeconfig; null in real use
 */
public record Environment(Map<String, String> variables, Path workDir, Path home, KubernetesClient client) {
    /** Directory the local cluster (bin/kubevmm local up) writes its kubeconfig and node token to. */
    static final String LOCAL_CLUSTER_DIR = ".kubevmm";

    public static Environment system() {
        return new Environment(System.getenv(), Path.of("").toAbsolutePath(), Path.of(System.getProperty("user.home")), null);
    }

    public Optional<String> variable(String name) {
        String value = variables.get(name);
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value);
    }

    /**
     * A file the local cluster wrote: {@code .kubevmm/<name>} in the current directory or the
     * nearest parent (so commands work from any folder of the checkout), else under
     * {@code $KUBEVMM_HOME} (bin/kubevmm sets it to the repo root, so they work from anywhere).
     */
    public Optional<Path> localClusterFile(String name) {
        for (Path dir = workDir.toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve(LOCAL_CLUSTER_DIR).resolve(name);
            if (Files.isRegularFile(candidate)) {
                return Optional.of(candidate);
            }
        }
        return variable("KUBEVMM_HOME").map(home -> Path.of(home).resolve(LOCAL_CLUSTER_DIR).resolve(name))
                .filter(Files::isRegularFile);
    }

    /** A path as the user typed it, resolved against the current directory. */
    public Path resolve(String path) {
        return workDir.resolve(path);
    }
}
