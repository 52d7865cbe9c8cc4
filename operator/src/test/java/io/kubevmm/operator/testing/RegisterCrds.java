package io.kubevmm.operator.testing;

import io.kubevmm.api.v1alpha1.Crds;
import io.quarkus.test.kubernetes.client.KubernetesServer;

import java.util.function.Consumer;

/** Registers KubeVMM's CRDs in the mock API server before the operator starts watching. */
public class RegisterCrds implements Consumer<KubernetesServer> {
    @Override
    public void accept(KubernetesServer server) {
        Crds.all().forEach(crd -> server.getClient().resource(crd).create());
    }
}
