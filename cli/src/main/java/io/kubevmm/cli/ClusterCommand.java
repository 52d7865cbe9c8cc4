package io.kubevmm.cli;

import io.fabric8.kubernetes.client.KubernetesClient;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** What every subcommand shares: the root's global options, the cluster, and the output streams. */
abstract class ClusterCommand implements Callable<Integer> {
    @ParentCommand
    KubeVmm root;
    @Spec
    CommandSpec spec;

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    KubernetesClient client() {
        return root.client();
    }

    ClusterObjects objects() {
        return new ClusterObjects(client());
    }

    String namespace() {
        return ClusterObjects.checkedNamespace(root.namespace);
    }

    Environment env() {
        return root.environment();
    }
}
