package io.kubevmm.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesList;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleRef;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Offline checks of the chart: lint, template, rendered objects, schema and CRD identity. */
class ChartTest {

    static final String NS = "kubevmm-system";
    static final String RELEASE = "kubevmm";

    /**
     * The intended RBAC, per ServiceAccount: "group/resource" (core group empty) to its verbs,
     * merging ClusterRoles and namespaced Roles bound to the account. Anything else fails.
     */
    private static final Map<String, Map<String, List<String>>> EXPECTED_RBAC = Map.of(
            "operator", Map.ofEntries(
                    Map.entry("kubevmm.io/virtualmachines", List.of("get", "list", "watch", "create", "update", "patch")),
                    Map.entry("kubevmm.io/virtualmachines/status", List.of("update", "patch")),
                    Map.entry("kubevmm.io/virtualmachines/finalizers", List.of("update")),
                    Map.entry("kubevmm.io/virtualmachineinstances", List.of("get", "list", "watch", "create", "update", "patch", "delete")),
                    // Failover (docs/ha.md): the status of an instance moved off a lost node is reset.
                    Map.entry("kubevmm.io/virtualmachineinstances/status", List.of("patch")),
                    Map.entry("kubevmm.io/vmnodes", List.of("get", "list", "watch")),
                    Map.entry("kubevmm.io/vmnodes/status", List.of("patch")),
                    Map.entry("kubevmm.io/vmmigrations", List.of("get", "list", "watch", "create", "patch")),
                    Map.entry("kubevmm.io/vmmigrations/status", List.of("patch")),
                    Map.entry("kubevmm.io/vmsnapshots", List.of("get", "list", "watch", "patch")),
                    Map.entry("kubevmm.io/vmsnapshots/status", List.of("patch")),
                    Map.entry("kubevmm.io/vmrestores", List.of("get", "list", "watch")),
                    Map.entry("kubevmm.io/vmrestores/status", List.of("patch")),
                    Map.entry("kubevmm.io/vmnetworks", List.of("get", "list", "watch")),
                    Map.entry("kubevmm.io/vmnetworks/status", List.of("patch")),
                    Map.entry("/services", List.of("get", "list", "watch")),
                    Map.entry("discovery.k8s.io/endpointslices", List.of("get", "list", "watch", "create", "update", "patch", "delete")),
                    Map.entry("/events", List.of("create")),
                    Map.entry("coordination.k8s.io/leases", List.of("get", "create", "update", "patch"))),
            "node", Map.ofEntries(
                    Map.entry("kubevmm.io/virtualmachineinstances", List.of("get", "list", "watch", "update", "patch")),
                    Map.entry("kubevmm.io/virtualmachines", List.of("get")),
                    Map.entry("/secrets", List.of("get")),
                    Map.entry("kubevmm.io/virtualmachineinstances/status", List.of("update", "patch")),
                    Map.entry("kubevmm.io/virtualmachineinstances/finalizers", List.of("update")),
                    Map.entry("kubevmm.io/vmnodes", List.of("get", "create", "list", "watch")),
                    Map.entry("kubevmm.io/vmnodes/status", List.of("patch")),
                    Map.entry("kubevmm.io/vmmigrations", List.of("get", "list", "watch")),
                    Map.entry("kubevmm.io/vmmigrations/status", List.of("patch")),
                    Map.entry("kubevmm.io/vmsnapshots", List.of("get", "list", "watch", "update", "patch")),
                    Map.entry("kubevmm.io/vmsnapshots/status", List.of("patch")),
                    Map.entry("kubevmm.io/vmsnapshots/finalizers", List.of("update")),
                    Map.entry("/events", List.of("create")),
                    Map.entry("coordination.k8s.io/leases", List.of("get", "create", "update"))));

    private static final Path REPO_ROOT = findRepoRoot();
    static final Path CHART = REPO_ROOT.resolve("helm/kubevmm");
    private static List<HasMetadata> defaults;
    private static List<HasMetadata> custom;

    @BeforeAll
    static void render() throws IOException {
        defaults = parse(new Helm(CHART).template().withName(RELEASE).withNamespace(NS).call());
        custom = parse(new Helm(CHART).template().withName(RELEASE).withNamespace(NS)
                .withValuesFile(REPO_ROOT.resolve("helm/src/test/resources/custom-values.yaml")).call());
    }

    static Path findRepoRoot() {
        String prop = System.getProperty("kubevmm.repo.root");
        if (prop != null && !prop.isBlank()) {
            Path p = Paths.get(prop).toAbsolutePath().normalize();
            for (Path d = p; d != null; d = d.getParent()) {
                if (isRoot(d)) {
                    return d;
                }
            }
        }
        for (Path d = Paths.get("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (isRoot(d)) {
                return d;
            }
        }
        throw new IllegalStateException("repository root (crds/ + pom.xml + helm/) not found");
    }

    private static boolean isRoot(Path d) {
        return Files.isDirectory(d.resolve("crds")) && Files.isRegularFile(d.resolve("pom.xml"))
                && Files.isDirectory(d.resolve("helm/kubevmm"));
    }

    static List<HasMetadata> parse(String yaml) {
        List<HasMetadata> out = new ArrayList<>();
        for (String doc : yaml.split("(?m)^---\\s*$")) {
            if (doc.lines().allMatch(l -> l.isBlank() || l.startsWith("#"))) {
                continue;
            }
            Object o = Serialization.unmarshal(new ByteArrayInputStream(doc.getBytes(StandardCharsets.UTF_8)));
            if (o instanceof KubernetesList list) {
                out.addAll(list.getItems());
            } else if (o instanceof HasMetadata h) {
                out.add(h);
            }
        }
        return out;
    }

    static <T extends HasMetadata> List<T> all(List<HasMetadata> objs, Class<T> type) {
        return objs.stream().filter(type::isInstance).map(type::cast).toList();
    }

    static <T extends HasMetadata> T one(List<HasMetadata> objs, Class<T> type) {
        List<T> found = all(objs, type);
        assertThat(found).as(type.getSimpleName()).hasSize(1);
        return found.get(0);
    }

    static Container container(DaemonSet ds) {
        return ds.getSpec().getTemplate().getSpec().getContainers().get(0);
    }

    static EnvVar env(Container c, String name) {
        return c.getEnv().stream().filter(e -> e.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("env " + name + " missing"));
    }

    /** Effective permissions of a ServiceAccount: "group/resource" to the set of verbs. */
    private static Map<String, TreeSet<String>> permissions(List<HasMetadata> objs, String serviceAccount) {
        Map<String, TreeSet<String>> perms = new TreeMap<>();
        List<PolicyRule> rules = new ArrayList<>();
        for (ClusterRoleBinding b : all(objs, ClusterRoleBinding.class)) {
            if (boundTo(b.getSubjects(), serviceAccount)) {
                rules.addAll(clusterRole(objs, b.getRoleRef()).getRules());
            }
        }
        for (RoleBinding b : all(objs, RoleBinding.class)) {
            if (boundTo(b.getSubjects(), serviceAccount)) {
                assertThat(b.getRoleRef().getKind()).isEqualTo("Role");
                Role role = all(objs, Role.class).stream()
                        .filter(r -> r.getMetadata().getName().equals(b.getRoleRef().getName())
                                && Objects.equals(r.getMetadata().getNamespace(), b.getMetadata().getNamespace()))
                        .findFirst().orElseThrow(() -> new AssertionError("Role " + b.getRoleRef().getName() + " missing"));
                rules.addAll(role.getRules());
            }
        }
        for (PolicyRule r : rules) {
            assertThat(r.getNonResourceURLs()).as("nonResourceURLs").isNullOrEmpty();
            assertThat(r.getResourceNames()).as("resourceNames").isNullOrEmpty();
            for (String g : r.getApiGroups()) {
                for (String res : r.getResources()) {
                    perms.computeIfAbsent(g + "/" + res, k -> new TreeSet<>()).addAll(r.getVerbs());
                }
            }
        }
        return perms;
    }

    private static ClusterRole clusterRole(List<HasMetadata> objs, RoleRef ref) {
        assertThat(ref.getKind()).isEqualTo("ClusterRole");
        return all(objs, ClusterRole.class).stream().filter(r -> r.getMetadata().getName().equals(ref.getName()))
                .findFirst().orElseThrow(() -> new AssertionError("ClusterRole " + ref.getName() + " missing"));
    }

    private static boolean boundTo(List<Subject> subjects, String serviceAccount) {
        return subjects.stream().anyMatch(s -> "ServiceAccount".equals(s.getKind())
                && serviceAccount.equals(s.getName()) && NS.equals(s.getNamespace()));
    }

    private static void assertRbac(List<HasMetadata> objs, String sa, Map<String, List<String>> expected) {
        Map<String, TreeSet<String>> actual = permissions(objs, sa);
        actual.forEach((res, verbs) -> {
            assertThat(res).as("resource of " + sa).doesNotContain("*");
            assertThat(verbs).as("verbs of " + sa + " on " + res).doesNotContain("*");
        });
        Map<String, TreeSet<String>> want = new TreeMap<>();
        expected.forEach((k, v) -> want.put(k, new TreeSet<>(v)));
        assertThat(actual).as("RBAC of ServiceAccount " + sa).isEqualTo(want);
    }

    @Test
    void lintStrictPasses() {
        LintResult result = new Helm(CHART).lint().strict().call();
        assertThat(result.isFailed()).as(String.join("\n", result.getMessages())).isFalse();
    }

    @Test
    void defaultValuesRender() {
        assertThat(defaults).extracting(HasMetadata::getKind)
                .contains("Deployment", "DaemonSet", "ServiceAccount", "ClusterRole", "ClusterRoleBinding",
                        "Role", "RoleBinding", "Secret")
                .doesNotContain("ServiceMonitor");
        Deployment op = one(defaults, Deployment.class);
        assertThat(op.getSpec().getReplicas()).isEqualTo(1);
        Container c = op.getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(c.getImage()).isEqualTo("ghcr.io/kubevmm/operator:0.1.0-SNAPSHOT");
        assertThat(env(c, "KUBEVMM_OPERATOR_PORT").getValue()).isEqualTo("8089");
        assertThat(env(c, "KUBEVMM_OPERATOR_BIND_ADDRESS").getValueFrom().getFieldRef().getFieldPath()).isEqualTo("status.podIP");
        assertThat(env(c, "KUBEVMM_OPERATOR_LEASE_NAMESPACE").getValue()).isEqualTo(NS);
        // Each replica holds the leader Lease under its own pod name.
        assertThat(env(c, "KUBEVMM_OPERATOR_IDENTITY").getValueFrom().getFieldRef().getFieldPath()).isEqualTo("metadata.name");
        assertThat(c.getReadinessProbe().getTcpSocket().getPort().getStrVal()).isEqualTo("http");
        assertThat(c.getLivenessProbe().getTcpSocket()).isNotNull();
        assertThat(op.getSpec().getTemplate().getSpec().getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(all(defaults, Secret.class)).extracting(s -> s.getMetadata().getName())
                .containsExactlyInAnyOrder("kubevmm-node-token", "kubevmm-migration-tls");
    }

    @Test
    void rbacIsExactlyTheIntendedVerbs() {
        assertRbac(defaults, "kubevmm-operator", EXPECTED_RBAC.get("operator"));
        assertRbac(defaults, "kubevmm-node", EXPECTED_RBAC.get("node"));
        assertRbac(custom, "vmm-operator", EXPECTED_RBAC.get("operator"));
        assertRbac(custom, "vmm-node", EXPECTED_RBAC.get("node"));
        // Lease Roles are in the lease namespace.
        assertThat(all(custom, Role.class)).extracting(r -> r.getMetadata().getNamespace())
                .containsOnly("kubevmm-leases");
        assertThat(all(defaults, Role.class)).extracting(r -> r.getMetadata().getNamespace()).containsOnly(NS);
    }

    @Test
    void rbacCheckCatchesWildcardsAndExtraVerbs() {
        List<HasMetadata> tampered = parse(Serialization.asYaml(new KubernetesList("v1", defaults, "List", null)));
        ClusterRole role = all(tampered, ClusterRole.class).stream()
                .filter(r -> r.getMetadata().getName().equals("kubevmm-node")).findFirst().orElseThrow();
        role.getRules().get(0).getVerbs().add("delete");
        assertThatThrownBy(() -> assertRbac(tampered, "kubevmm-node", EXPECTED_RBAC.get("node")))
                .isInstanceOf(AssertionError.class);
        role.getRules().get(0).getVerbs().remove("delete");
        assertRbac(tampered, "kubevmm-node", EXPECTED_RBAC.get("node"));
        role.getRules().get(0).setVerbs(new ArrayList<>(List.of("*")));
        assertThatThrownBy(() -> assertRbac(tampered, "kubevmm-node", EXPECTED_RBAC.get("node")))
                .isInstanceOf(AssertionError.class).hasMessageContaining("*");
    }

    @Test
    void daemonSetIsPrivilegedWithKvmHostPathsEnvAndProbes() {
        DaemonSet ds = one(defaults, DaemonSet.class);
        Container c = container(ds);
        assertThat(c.getSecurityContext().getPrivileged()).isTrue();
        assertThat(env(c, "KUBEVMM_NODE_NAME").getValueFrom().getFieldRef().getFieldPath()).isEqualTo("spec.nodeName");
        assertThat(env(c, "KUBEVMM_NODE_API_TOKEN").getValueFrom().getSecretKeyRef().getName())
                .isEqualTo("kubevmm-node-token");
        assertThat(env(c, "KUBEVMM_NODE_API_TOKEN").getValueFrom().getSecretKeyRef().getKey()).isEqualTo("token");
        assertThat(env(c, "KUBEVMM_NODE_PORT").getValue()).isEqualTo("8090");
        assertThat(env(c, "KUBEVMM_NODE_ADVERTISE_ADDRESS").getValueFrom().getFieldRef().getFieldPath()).isEqualTo("status.podIP");
        assertThat(env(c, "KUBEVMM_NODE_QEMU_ACCELERATOR").getValue()).isEqualTo("auto");
        assertThat(env(c, "KUBEVMM_NODE_STATE_DIR").getValue()).isEqualTo("/var/lib/kubevmm/state");
        assertThat(env(c, "KUBEVMM_NODE_IMAGE_DIR").getValue()).isEqualTo("/var/lib/kubevmm/images");
        assertThat(c.getPorts()).anySatisfy(p -> assertThat(p.getContainerPort()).isEqualTo(8090));
        assertThat(c.getReadinessProbe().getTcpSocket().getPort().getStrVal()).isEqualTo("node-api");
        assertThat(c.getLivenessProbe().getTcpSocket().getPort().getStrVal()).isEqualTo("node-api");

        Map<String, Volume> volumes = new TreeMap<>();
        ds.getSpec().getTemplate().getSpec().getVolumes().forEach(v -> volumes.put(v.getName(), v));
        assertThat(volumes.get("kvm").getHostPath().getPath()).isEqualTo("/dev/kvm");
        assertThat(volumes.get("state").getHostPath().getPath()).isEqualTo("/var/lib/kubevmm/state");
        assertThat(volumes.get("images").getHostPath().getPath()).isEqualTo("/var/lib/kubevmm/images");
        assertThat(c.getVolumeMounts()).extracting(m -> m.getMountPath())
                .contains("/dev/kvm", "/var/lib/kubevmm/state", "/var/lib/kubevmm/images");
        assertThat(ds.getSpec().getTemplate().getSpec().getServiceAccountName()).isEqualTo("kubevmm-node");
    }

    @Test
    void tokenSecretIsGeneratedWith32Characters() {
        Secret s = all(defaults, Secret.class).stream().filter(x -> x.getMetadata().getName().equals("kubevmm-node-token"))
                .findFirst().orElseThrow();
        String token = new String(java.util.Base64.getDecoder().decode(s.getData().get("token")), StandardCharsets.UTF_8);
        assertThat(token).hasSize(32).matches("[A-Za-z0-9]+");
    }

    @Test
    void customValuesRender() {
        Deployment op = one(custom, Deployment.class);
        assertThat(op.getSpec().getReplicas()).isEqualTo(2);
        assertThat(op.getSpec().getTemplate().getSpec().getImagePullSecrets()).extracting(r -> r.getName())
                .containsExactly("registry-cred");
        DaemonSet ds = one(custom, DaemonSet.class);
        Container c = container(ds);
        assertThat(c.getImage()).isEqualTo("registry.example.com/kubevmm/node-runtime:1.2.3");
        assertThat(env(c, "KUBEVMM_NODE_QEMU_ACCELERATOR").getValue()).isEqualTo("kvm");
        assertThat(env(c, "KUBEVMM_NODE_LEASE_NAMESPACE").getValue()).isEqualTo("kubevmm-leases");
        assertThat(ds.getSpec().getTemplate().getSpec().getNodeSelector()).containsEntry("kubevmm.io/hypervisor", "true");
        assertThat(ds.getSpec().getTemplate().getSpec().getTolerations()).singleElement()
                .satisfies(t -> assertThat(t.getKey()).isEqualTo("dedicated"));
        assertThat(ds.getSpec().getTemplate().getSpec().getVolumes())
                .anySatisfy(v -> assertThat(v.getHostPath().getPath()).isEqualTo("/data/kubevmm/state"));

        Map<String, Secret> secrets = new TreeMap<>();
        all(custom, Secret.class).forEach(s -> secrets.put(s.getMetadata().getName(), s));
        assertThat(secrets).containsOnlyKeys("vmm-node-token", "vmm-migration-tls");
        assertThat(new String(java.util.Base64.getDecoder().decode(secrets.get("vmm-node-token").getData().get("token")),
                StandardCharsets.UTF_8)).isEqualTo("s3cr3t-token-from-values");
        assertThat(secrets.get("vmm-migration-tls").getType()).isEqualTo("kubernetes.io/tls");
        assertThat(secrets.get("vmm-migration-tls").getData()).containsKeys("tls.crt", "tls.key", "ca.crt");
        assertThat(custom).extracting(HasMetadata::getKind).contains("ServiceMonitor", "Service");
    }

    @Test
    void existingTokenSecretIsUsedAndNotCreated() {
        List<HasMetadata> objs = parse(new Helm(CHART).template().withName(RELEASE).withNamespace(NS)
                .set("nodeRuntime.existingSecret", "my-token").call());
        assertThat(all(objs, Secret.class)).extracting(s -> s.getMetadata().getName())
                .containsExactly("kubevmm-migration-tls");
        assertThat(env(container(one(objs, DaemonSet.class)), "KUBEVMM_NODE_API_TOKEN").getValueFrom()
                .getSecretKeyRef().getName()).isEqualTo("my-token");
    }

    @Test
    void theDefaultVmNetworkIsCreatedFromValuesAndCanBeLeftOut() {
        HasMetadata network = defaults.stream().filter(o -> "VMNetwork".equals(o.getKind())).findFirst()
                .orElseThrow(() -> new AssertionError("no VMNetwork rendered"));
        assertThat(network.getApiVersion()).isEqualTo("kubevmm.io/v1alpha1");
        assertThat(network.getMetadata().getName()).isEqualTo("default");
        assertThat(network.getMetadata().getNamespace()).as("cluster-scoped").isNull();
        @SuppressWarnings("unchecked") Map<String, Object> spec = (Map<String, Object>) ((io.fabric8.kubernetes.api.model.GenericKubernetesResource) network).getAdditionalProperties().get("spec");
        assertThat(spec).containsEntry("cidr", "10.200.0.0/16").containsEntry("vni", 4200);

        List<HasMetadata> without = parse(new Helm(CHART).template().withName(RELEASE).withNamespace(NS)
                .set("network.default.create", "false").call());
        assertThat(without).extracting(HasMetadata::getKind).doesNotContain("VMNetwork");
    }

    @Test
    void schemaRejectsAVniOutOfRangeAndACidrWithoutPrefix(@TempDir Path tmp) throws IOException {
        assertRejected(tmp, "network:\n  default:\n    vni: 0\n", "vni");
        assertRejected(tmp, "network:\n  default:\n    cidr: 10.200.0.0\n", "cidr");
    }

    @Test
    void schemaRejectsUnknownAccelerator(@TempDir Path tmp) throws IOException {
        assertRejected(tmp, "nodeRuntime:\n  accelerator: fast\n", "accelerator");
    }

    @Test
    void schemaRejectsNonIntegerReplicas(@TempDir Path tmp) throws IOException {
        assertRejected(tmp, "operator:\n  replicas: \"two\"\n", "replicas");
    }

    @Test
    void schemaRejectsEmptyImageTag(@TempDir Path tmp) throws IOException {
        assertRejected(tmp, "operator:\n  image:\n    tag: \"\"\n", "tag");
    }

    static void assertRejected(Path tmp, String values, String field) throws IOException {
        Path file = tmp.resolve("bad-values.yaml");
        Files.writeString(file, values);
        assertThatThrownBy(() -> new Helm(CHART).template().withName(RELEASE).withNamespace(NS)
                .withValuesFile(file).call())
                .hasMessageContaining("values don't meet the specifications of the schema")
                .hasMessageContaining(field);
    }

    @Test
    void chartCrdsAreByteIdenticalToRepoCrds() throws IOException {
        Path repoCrds = REPO_ROOT.resolve("crds");
        Path chartCrds = CHART.resolve("crds");
        List<String> expected;
        try (Stream<Path> s = Files.list(repoCrds)) {
            expected = s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yml") || n.endsWith(".yaml"))
                    .sorted().toList();
        }
        List<String> actual;
        try (Stream<Path> s = Files.list(chartCrds)) {
            actual = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertThat(expected).isNotEmpty();
        assertThat(actual).isEqualTo(expected);
        for (String name : actual) {
            assertThat(Files.readAllBytes(chartCrds.resolve(name)))
                    .as("helm/kubevmm/crds/" + name + " differs from crds/" + name + " (copy it again)")
                    .isEqualTo(Files.readAllBytes(repoCrds.resolve(name)));
        }
    }
}
