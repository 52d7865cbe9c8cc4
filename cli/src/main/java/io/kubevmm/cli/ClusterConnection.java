package io.kubevmm.cli;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Finds the cluster to talk to, in kubectl's order with the local cluster slotted in:
 * {@code --kubeconfig}, {@code $KUBECONFIG}, {@code .kubevmm/kubeconfig} (bin/kubevmm local up),
 * {@code ~/.kube/config}.
 */
final class ClusterConnection {
    static final String START_LOCAL = "Start the local cluster with: bin/kubevmm local up";

    private ClusterConnection() { }

    /** The kubeconfig file to use, if any; fails when one was named explicitly but is missing. */
    static Optional<Path> locateKubeconfig(String option, Environment env) {
        if (option != null) {
            Path path = env.resolve(option);
            if (!Files.isRegularFile(path)) {
                throw new CliException("--kubeconfig " + option + ": no such file");
            }
            return Optional.of(path);
        }
        Optional<String> variable = env.variable("KUBECONFIG");
        if (variable.isPresent()) {
            // KUBECONFIG may list several files; like kubectl, the first one that exists wins.
            for (String entry : variable.get().split(File.pathSeparator)) {
                if (!entry.isBlank() && Files.isRegularFile(env.resolve(entry))) {
                    return Optional.of(env.resolve(entry));
                }
            }
            throw new CliException("KUBECONFIG=" + variable.get() + ": no such file; unset it or point it at a kubeconfig");
        }
        Optional<Path> local = env.localClusterFile("kubeconfig");
        if (local.isPresent()) {
            return local;
        }
        Path home = env.home().resolve(".kube").resolve("config");
        return Files.isRegularFile(home) ? Optional.of(home) : Optional.empty();
    }

    static KubernetesClient connect(String kubeconfigOption, Environment env) {
        Config config = locateKubeconfig(kubeconfigOption, env)
                .map(path -> Config.fromKubeconfig(path.toFile()))
                .orElseGet(() -> {
                    if (env.variable("KUBERNETES_SERVICE_HOST").isEmpty()) {
                        throw new CliException("no cluster configured (looked for --kubeconfig, $KUBECONFIG, "
                                + ".kubevmm/kubeconfig and ~/.kube/config). " + START_LOCAL);
                    }
                    return Config.autoConfigure(null); // in a pod: the service account
                });
        // One attempt, short connect timeout: a CLI should say "cannot reach" at once rather
        // than retry for a minute; wait and console --follow poll on their own.
        Config quick = new ConfigBuilder(config)
                .withRequestRetryBackoffLimit(0)
                .withConnectionTimeout(5_000)
                .build();
        return new KubernetesClientBuilder().withConfig(quick).build();
    }
}
