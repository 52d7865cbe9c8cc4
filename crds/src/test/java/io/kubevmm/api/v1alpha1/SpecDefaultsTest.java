package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.junit.jupiter.api.Test;

import java.io.InputStream;

import static org.assertj.core.api.Assertions.assertThat;

/** A field left out means the same to every reader, and the same as the CRD schema's default. */
class SpecDefaultsTest {

    @Test
    void anEmptyMachineSpecGetsTheDefaults() {
        VirtualMachineInstanceSpec spec = new VirtualMachineInstanceSpec();
        assertThat(SpecDefaults.cpu(spec)).isEqualTo(1);
        assertThat(SpecDefaults.memoryBytes(spec)).isEqualTo(256L << 20);
        assertThat(SpecDefaults.profile(spec)).isEqualTo(Profile.microvm);
        assertThat(SpecDefaults.terminationGracePeriodSeconds(spec)).isEqualTo(30);
        assertThat(SpecDefaults.restartPolicy(null)).isEqualTo(RestartPolicy.Always);
        assertThat(SpecDefaults.suspendMode(null)).isEqualTo(SuspendMode.Memory);
        assertThat(SpecDefaults.state(null)).isEqualTo(VmState.Running);
    }

    @Test
    void aFieldThatIsSetWins() {
        VirtualMachineSpec spec = new VirtualMachineSpec();
        spec.setCpu(4);
        spec.setMemory("1Gi");
        spec.setState(VmState.Stopped);
        assertThat(SpecDefaults.cpu(spec)).isEqualTo(4);
        assertThat(SpecDefaults.memoryBytes(spec)).isEqualTo(1L << 30);
        assertThat(SpecDefaults.state(spec)).isEqualTo(VmState.Stopped);
    }

    @Test
    void migrationAndSnapshotDefaults() {
        VMMigrationSpec migration = new VMMigrationSpec();
        assertThat(SpecDefaults.strategy(migration)).isEqualTo(VMMigrationSpec.Strategy.Auto);
        assertThat(SpecDefaults.maxDowntimeMillis(migration)).isEqualTo(300);
        assertThat(SpecDefaults.bandwidthMiBps(migration)).isZero();
        assertThat(SpecDefaults.autoConverge(migration)).isTrue();
        assertThat(SpecDefaults.snapshotType(new VMSnapshotSpec())).isEqualTo(VMSnapshotSpec.Type.FullState);
    }

    @Test
    void theSchemaDeclaresTheSameDefaults() throws Exception {
        JsonNode spec = schema("virtualmachines.kubevmm.io-v1.yml").path("properties").path("spec").path("properties");
        assertThat(spec.path("memory").path("default").asText()).isEqualTo(SpecDefaults.MEMORY);
        assertThat(spec.path("cpu").path("default").asText()).isEqualTo(SpecDefaults.CPU);
        assertThat(spec.path("state").path("default").asText()).isEqualTo(SpecDefaults.STATE);
        JsonNode migration = schema("vmmigrations.kubevmm.io-v1.yml").path("properties").path("spec").path("properties");
        assertThat(migration.path("maxDowntimeMillis").path("default").asText()).isEqualTo(SpecDefaults.MAX_DOWNTIME_MILLIS);
    }

    private static JsonNode schema(String file) throws Exception {
        try (InputStream in = SpecDefaultsTest.class.getResourceAsStream("/META-INF/fabric8/" + file)) {
            assertThat(in).as(file).isNotNull();
            return new ObjectMapper(new YAMLFactory()).readTree(in)
                    .path("spec").path("versions").get(0).path("schema").path("openAPIV3Schema");
        }
    }
}
