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
    @Override
    String clusterDirName() {
        return "kubectl";
    }

    Cli ok(String... args) throws IOException, InterruptedException {
        Cli r = kubectl(null, args);
        assertThat(r.code()).as("kubectl " + String.join(" ", args) + " said:\n" + r.out()).isZero();
        return r;
    }

    @Test
    void theExampleVmIsAppliedWaitedForSuspendedResumedAndDeletedWithKubectlAlone() throws Exception {
        assertThat(ok("apply", "-f", "examples/vm.yaml").out()).contains("virtualmachine.kubevmm.io/demo created");
        ok("wait", "--for=condition=Ready", "vm/demo", "--timeout=180s");
        assertThat(ok("get", "vm", "demo", "-o", "jsonpath={.status.phase}").out()).isEqualTo("Running");
        int tick = lastTick("demo");

        ok("patch", "vm", "demo", "--type", "merge", "-p", "{\"spec\":{\"state\":\"Suspended\"}}");
        ok("wait", "--for=jsonpath={.status.phase}=Suspended", "vm/demo", "--timeout=120s");
        int frozen = lastTick("demo");
        assertThat(frozen).as("ticks went on before the pause").isGreaterThanOrEqualTo(tick);

        ok("patch", "vm", "demo", "--type", "merge", "-p", "{\"spec\":{\"state\":\"Running\"}}");
        ok("wait", "--for=jsonpath={.status.phase}=Running", "vm/demo", "--timeout=120s");
        ok("wait", "--for=condition=Ready", "vm/demo", "--timeout=120s");
        awaitTickAbove("demo", frozen);

        String listed = ok("get", "vm,vmi,vmnode,vmmig,vmsnap").out();
        assertThat(listed).contains("virtualmachine.kubevmm.io/demo", "virtualmachineinstance.kubevmm.io/demo",
                "vmnode.kubevmm.io/node-a", "vmnode.kubevmm.io/node-b");
        assertThat(ok("get", "vm", "demo").out()).as("printer columns").contains("PHASE", "NODE", "READY", "Running");

        ok("delete", "vm", "demo", "--timeout=120s");
        Cli gone = kubectl(null, "get", "vm", "demo");
        assertThat(gone.code()).isNotZero();
        assertThat(gone.out()).contains("NotFound");
        assertThat(ok("get", "vmi", "-o", "name").out()).doesNotContain("demo");
    }

    @Test
    void explainShowsEachFieldsDescriptionFromTheCrd() throws Exception {
        JSONSchemaProps memory = Crds.all().stream().filter(c -> c.getSpec().getNames().getKind().equals("VirtualMachine"))
                .findFirst().orElseThrow().getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema()
                .getProperties().get("spec").getProperties().get("memory");
        String explained = ok("explain", "virtualmachine.spec.memory").out();
        assertThat(explained).contains("FIELD: memory");
        // kubectl wraps the description at its own width.
        assertThat(explained.replaceAll("\\s+", " ")).contains(memory.getDescription().replaceAll("\\s+", " "));
    }

    @Test
    void aBadManifestIsRefusedByTheApiServerNamingTheField() throws Exception {
        String manifest = Files.readString(repo().resolve("examples/vm.yaml"));
        Cli quantity = kubectl(manifest.replace("name: demo", "name: bad-memory").replace("memory: 256Mi", "memory: 12Zi"),
                "apply", "-f", "-");
        assertThat(quantity.code()).isNotZero();
        assertThat(quantity.out()).contains("spec.memory", "12Zi");

        // A CEL rule of the CRD: a disk is new (size) or an overlay (source), not both.
        Cli cel = kubectl(manifest.replace("name: demo", "name: bad-disk")
                        + "  disks:\n  - {name: data, size: 1Gi, source: {path: base.qcow2}}\n",
                "apply", "-f", "-");
        assertThat(cel.code()).isNotZero();
        assertThat(cel.out()).contains("spec.disks[0]", "exactly one of size");

        Cli unknownField = kubectl(manifest.replace("name: demo", "name: bad-field").replace("  cpu: 1\n", "  cpus: 1\n"),
                "apply", "-f", "-");
        assertThat(unknownField.code()).isNotZero();
        assertThat(unknownField.out()).contains("spec.cpus");
        assertThat(kubectl(null, "get", "vm", "-o", "name").out()).doesNotContain("bad-");
    }
}
