package io.kubevmm.e2e;

import io.fabric8.kubernetes.api.model.authorization.v1.ResourceRuleBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReviewBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.kubevmm.api.v1alpha1.Crds;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;

/**
 * The local cluster's API server: fabric8's mock Kubernetes API in CRUD mode on loopback, with
 * KubeVMM's CRDs registered, and a kubeconfig pointing at it. Runs until killed.
 * Usage: ApiServerMain PORT KUBECONFIG
 *
 * <p>Of the CRD schemas it enforces string lengths only ({@link LengthLimits} says why).
 *
 * <p>It has no authorization: everyone may do everything, and it says so when asked. The
 * operator's leader election asks (a SelfSubjectRulesReview for Leases) before it starts; the
 * CRUD mock alone rejects that request (422, no metadata) and the operator would not start.
 */
public final class ApiServerMain {
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        Path kubeconfig = Path.of(args[1]);
        Map<ServerRequest, Queue<ServerResponse>> expectations = new HashMap<>();
        KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), expectations,
                new LengthLimits(expectations, Crds.all()), false);
        server.expect().post().withPath("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews")
                .andReturn(201, everythingAllowed()).always();
        server.init(InetAddress.getLoopbackAddress(), port);
        try (var client = server.createClient()) {
            Crds.all().forEach(crd -> client.resource(crd).create());
        }
        String url = "http://127.0.0.1:" + port;
        Path tmp = kubeconfig.resolveSibling(kubeconfig.getFileName() + ".tmp");
        Files.writeString(tmp, """
                apiVersion: v1
                kind: Config
                clusters:
                - name: kubevmm-local
                  cluster:
                    server: %s
                contexts:
                - name: kubevmm-local
                  context:
                    cluster: kubevmm-local
                    user: kubevmm-local
                    namespace: default
                current-context: kubevmm-local
                users:
                - name: kubevmm-local
                  user: {}
                """.formatted(url));
        // Written last and atomically: its presence means the API server is ready.
        Files.move(tmp, kubeconfig, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        System.out.println("kubevmm local API server on " + url);
        Thread.currentThread().join();
    }

    private static SelfSubjectRulesReview everythingAllowed() {
        return new SelfSubjectRulesReviewBuilder()
                .withNewStatus().withIncomplete(false)
                .withResourceRules(new ResourceRuleBuilder().withApiGroups("*").withResources("*").withVerbs("*").build())
                .endStatus().build();
    }
}
