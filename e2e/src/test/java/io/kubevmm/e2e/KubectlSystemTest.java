package io.kubevmm.e2e;

import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.kubevmm.api.v1alpha1.Crds;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The cluster as a kubectl user meets it: nothing but kubectl commands against the kubeconfig
 * {@code local up} wrote; the API server answers discovery, OpenAPI, schema and CEL validation.
 */
class KubectlSystemTest extends ClusterTestBase {
    private Path repo;

    @Override
    String clusterDirName() {
        return "kubectl";
    }

    @Override
    void beforeUp(LocalCluster cluster) {
        repo = Path.of(System.getProperty("kubevmm.repo.root", "..")).toAbsolutePath();
    }

    record Result(int exit, String output) { }

    Result kubectl(String stdin, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(cluster != null ? cluster.kubectl() : "kubectl"));
        String kubeconfig = cluster != null ? cluster.home().kubeconfig().toString() : System.getenv("KUBEVMM_KUBECONFIG");
        command.addAll(List.of("--kubeconfig", kubeconfig, "--namespace", "default"));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).directory(repo.toFile()).redirectErrorStream(true).start();
        try (var in = process.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(5, TimeUnit.MINUTES)).as("kubectl " + String.join(" ", args) + " finished").isTrue();
        return new Result(process.exitValue(), output);
    }

    Result ok(String... args) throws IOException, InterruptedException {
        Result r = kubectl(null, args);
        assertThat(r.exit()).as("kubectl " + String.join(" ", args) + " said:\n" + r.output()).isZero();
        return r;
    }

    @Test
    void theExampleVmIsAppliedWaitedForSuspendedResumedAndDeletedWithKubectlAlone() throws Exception {
        assertThat(ok("apply", "-f", "examples/vm.yaml").output()).contains("virtualmachine.kubevmm.io/demo created");
        ok("wait", "--for=condition=Ready", "vm/demo", "--timeout=180s");
        assertThat(ok("get", "vm", "demo", "-o", "jsonpath={.status.phase}").output()).isEqualTo("Running");
        int tick = lastTick("demo");

        ok("patch", "vm", "demo", "--type", "merge", "-p", "{\"spec\":{\"state\":\"Suspended\"}}");
        ok("wait", "--for=jsonpath={.status.phase}=Suspended", "vm/demo", "--timeout=120s");
        int frozen = lastTick("demo");
        assertThat(frozen).as("ticks went on before the pause").isGreaterThanOrEqualTo(tick);

        ok("patch", "vm", "demo", "--type", "merge", "-p", "{\"spec\":{\"state\":\"Running\"}}");
        ok("wait", "--for=jsonpath={.status.phase}=Running", "vm/demo", "--timeout=120s");
        ok("wait", "--for=condition=Ready", "vm/demo", "--timeout=120s");
        awaitTickAbove("demo", frozen);

        String listed = ok("get", "vm,vmi,vmnode,vmmig,vmsnap").output();
        assertThat(listed).contains("virtualmachine.kubevmm.io/demo", "virtualmachineinstance.kubevmm.io/demo",
                "vmnode.kubevmm.io/node-a", "vmnode.kubevmm.io/node-b");
        assertThat(ok("get", "vm", "demo").output()).as("printer columns").contains("PHASE", "NODE", "READY", "Running");

        ok("delete", "vm", "demo", "--timeout=120s");
        Result gone = kubectl(null, "get", "vm", "demo");
        assertThat(gone.exit()).isNotZero();
        assertThat(gone.output()).contains("NotFound");
        assertThat(ok("get", "vmi", "-o", "name").output()).doesNotContain("demo");
    }

    @Test
    void explainShowsEachFieldsDescriptionFromTheCrd() throws Exception {
        JSONSchemaProps memory = Crds.all().stream().filter(c -> c.getSpec().getNames().getKind().equals("VirtualMachine"))
                .findFirst().orElseThrow().getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema()
                .getProperties().get("spec").getProperties().get("memory");
        String explained = ok("explain", "virtualmachine.spec.memory").output();
        assertThat(explained).contains("FIELD: memory");
        // kubectl wraps the description at its own width.
        assertThat(explained.replaceAll("\\s+", " ")).contains(memory.getDescription().replaceAll("\\s+", " "));
    }

    @Test
    void aBadManifestIsRefusedByTheApiServerNamingTheField() throws Exception {
        String manifest = Files.readString(repo.resolve("examples/vm.yaml"));
        Result quantity = kubectl(manifest.replace("name: demo", "name: bad-memory").replace("memory: 256Mi", "memory: 12Zi"),
                "apply", "-f", "-");
        assertThat(quantity.exit()).isNotZero();
        assertThat(quantity.output()).contains("spec.memory", "12Zi");

        // A CEL rule of the CRD: a disk is new (size) or an overlay (source), not both.
        Result cel = kubectl(manifest.replace("name: demo", "name: bad-disk")
                        + "  disks:\n  - {name: data, size: 1Gi, source: {path: base.qcow2}}\n",
                "apply", "-f", "-");
        assertThat(cel.exit()).isNotZero();
        assertThat(cel.output()).contains("spec.disks[0]", "exactly one of size");

        Result unknownField = kubectl(manifest.replace("name: demo", "name: bad-field").replace("  cpu: 1\n", "  cpus: 1\n"),
                "apply", "-f", "-");
        assertThat(unknownField.exit()).isNotZero();
        assertThat(unknownField.output()).contains("spec.cpus");
        assertThat(kubectl(null, "get", "vm", "-o", "name").output()).doesNotContain("bad-");
    }
}
