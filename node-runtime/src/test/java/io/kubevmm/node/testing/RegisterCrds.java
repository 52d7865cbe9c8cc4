package io.kubevmm.node.testing;

import io.quarkus.test.kubernetes.client.KubernetesServer;
import io.kubevmm.api.v1alpha1.Crds;

import java.util.function.Consumer;

/** Registers KubeVMM's CRDs in the mock API server before the node runtime starts watching. */
public class RegisterCrds implements Consumer<KubernetesServer> {
    @Override
    public void accept(KubernetesServer server) {
        Crds.all().forEach(crd -> server.getClient().resource(crd).create());
    }
}
