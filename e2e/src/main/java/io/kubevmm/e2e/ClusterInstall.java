package io.kubevmm.e2e;

import com.marcnuri.helm.Helm;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesList;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.kubevmm.api.v1alpha1.Crds;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * What {@code helm install} would put into the cluster for the local processes, from the same
 * sources: the CRDs of the crds module, and the ServiceAccounts and RBAC that {@code helm/kubevmm}
 * renders (not a copy of its rules), and the chart's default VMNetwork (values network.default).
 * The operator and the node runtimes then authenticate as those
 * ServiceAccounts with tokens from the TokenRequest API, so every request is authorized by the
 * chart's roles.
 */
final class ClusterInstall {
    static final String RELEASE = "kubevmm";
    static final String NAMESPACE = "kubevmm-system";
    /** ServiceAccounts the chart names for release {@value #RELEASE}. */
    static final String OPERATOR_ACCOUNT = "kubevmm-operator";
    static final String NODE_ACCOUNT = "kubevmm-node";
    private static final Set<Class<? extends HasMetadata>> IDENTITY_KINDS = Set.of(
            ServiceAccount.class, ClusterRole.class, ClusterRoleBinding.class, Role.class, RoleBinding.class);
    /** Long enough for a try-out cluster that stays up for days; each start asks for fresh ones. */
    private static final long TOKEN_SECONDS = TimeUnit.DAYS.toSeconds(365);

    private ClusterInstall() { }

    /** Namespace, CRDs (until Established), chart RBAC and default VMNetwork; idempotent (server-side apply). */
    static void install(KubernetesClient client, Path chart) {
        client.resource(new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata().build())
                .fieldManager("kubevmm-local").forceConflicts().serverSideApply();
        for (CustomResourceDefinition crd : Crds.all()) {
            client.resource(crd).fieldManager("kubevmm-local").forceConflicts().serverSideApply();
        }
        for (CustomResourceDefinition crd : Crds.all()) {
            client.apiextensions().v1().customResourceDefinitions().withName(crd.getMetadata().getName())
                    .waitUntilCondition(c -> c != null && c.getStatus() != null && c.getStatus().getConditions().stream()
                            .anyMatch(k -> k.getType().equals("Established") && k.getStatus().equals("True")), 60, TimeUnit.SECONDS);
        }
        for (HasMetadata object : chartIdentities(chart)) {
            client.resource(object).fieldManager("kubevmm-local").forceConflicts().serverSideApply();
        }
    }

    /** The kinds of the chart the local cluster applies: who its processes are, and the default VMNetwork. */
    private static boolean installed(Object object) {
        return IDENTITY_KINDS.contains(object.getClass())
                || object instanceof HasMetadata h && "VMNetwork".equals(h.getKind()) && "kubevmm.io/v1alpha1".equals(h.getApiVersion());
    }

    /** The ServiceAccounts, Roles, ClusterRoles and bindings (and the VMNetwork) of the chart, rendered with its defaults. */
    static List<HasMetadata> chartIdentities(Path chart) {
        String yaml = new Helm(chart).template().withName(RELEASE).withNamespace(NAMESPACE).call();
        List<HasMetadata> identities = new ArrayList<>();
        for (String document : yaml.split("(?m)^---\\s*$")) {
            if (document.lines().allMatch(l -> l.isBlank() || l.startsWith("#"))) {
                continue;
            }
            Object o = Serialization.unmarshal(new ByteArrayInputStream(document.getBytes(StandardCharsets.UTF_8)));
            List<?> objects = o instanceof KubernetesList list ? list.getItems() : List.of(o);
            for (Object object : objects) {
                if (installed(object)) {
                    identities.add((HasMetadata) object);
                }
            }
        }
        if (identities.stream().noneMatch(o -> o instanceof ServiceAccount s && s.getMetadata().getName().equals(NODE_ACCOUNT))
                || identities.stream().noneMatch(o -> o instanceof ServiceAccount s && s.getMetadata().getName().equals(OPERATOR_ACCOUNT))) {
            throw new IllegalStateException(chart + " no longer renders ServiceAccounts " + OPERATOR_ACCOUNT + " and "
                    + NODE_ACCOUNT + " for release " + RELEASE + "; the local cluster runs its processes as them");
        }
        return identities;
    }

    /** A bearer token of {@code account} in {@value #NAMESPACE}, from the TokenRequest API. */
    static String token(KubernetesClient client, String account) {
        return client.serviceAccounts().inNamespace(NAMESPACE).withName(account)
                .tokenRequest(new TokenRequestBuilder().withNewSpec().withExpirationSeconds(TOKEN_SECONDS).endSpec().build())
                .getStatus().getToken();
    }
}
