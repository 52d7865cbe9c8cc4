package io.kubevmm.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.kubevmm.api.v1alpha1.Crds;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VMRestore;
import io.kubevmm.api.v1alpha1.VMSnapshot;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.validation.FieldError;
import io.kubevmm.api.validation.SpecValidator;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** Every manifest a user applies first is checked against the CRD schema and the validator. */
class ExamplesTest {
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    static final ObjectMapper JSON = new ObjectMapper();

    static Path examples() {
        String root = System.getProperty("kubevmm.repo.root");
        Path dir = root != null ? Path.of(root) : Path.of("").toAbsolutePath();
        for (Path p = dir.toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("examples"))) {
                return p.resolve("examples");
            }
        }
        throw new IllegalStateException("no examples/ directory above " + dir);
    }

    static List<Path> manifests() throws IOException {
        try (Stream<Path> files = Files.list(examples())) {
            return files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
        }
    }

    static Set<ValidationMessage> schemaErrors(JsonNode manifest) {
        String kind = manifest.path("kind").asText();
        CustomResourceDefinition crd = Crds.all().stream().filter(c -> c.getSpec().getNames().getKind().equals(kind))
                .findFirst().orElseThrow(() -> new AssertionError("no CRD for kind " + kind));
        JsonNode schema = JSON.valueToTree(crd.getSpec().getVersions().getFirst().getSchema().getOpenAPIV3Schema());
        JsonSchema validator = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V4).getSchema(schema);
        return validator.validate(manifest);
    }

    /** The validator for the manifest's kind, as the operator applies it. */
    static List<FieldError> validatorErrors(JsonNode manifest) {
        String kind = manifest.path("kind").asText();
        return switch (kind) {
            case "VirtualMachine" -> SpecValidator.validate(JSON.convertValue(manifest, VirtualMachine.class).getSpec());
            case "VirtualMachineInstance" ->
                    SpecValidator.validate(JSON.convertValue(manifest, VirtualMachineInstance.class).getSpec());
            case "VMMigration" -> SpecValidator.validate(JSON.convertValue(manifest, VMMigration.class).getSpec());
            case "VMSnapshot" -> SpecValidator.validate(JSON.convertValue(manifest, VMSnapshot.class).getSpec());
            case "VMRestore" -> SpecValidator.validate(JSON.convertValue(manifest, VMRestore.class).getSpec());
            default -> List.of();
        };
    }

    @Test
    void everyExampleExceptTheInvalidOneIsAcceptedByTheSchemaAndTheValidator() throws IOException {
        List<Path> valid = manifests().stream().filter(p -> !p.getFileName().toString().startsWith("invalid")).toList();
        assertThat(valid).extracting(p -> p.getFileName().toString())
                .contains("vm.yaml", "vm-standard.yaml", "vm-with-disk.yaml");
        for (Path file : valid) {
            JsonNode manifest = YAML.readTree(file.toFile());
            assertThat(schemaErrors(manifest)).as("schema errors in " + file.getFileName()).isEmpty();
            assertThat(validatorErrors(manifest)).as("validator errors in " + file.getFileName()).isEmpty();
        }
    }

    @Test
    void theInvalidExampleIsRejectedWithTheMessageItsCommentPromises() throws IOException {
        Path file = examples().resolve("invalid-vm.yaml");
        JsonNode manifest = YAML.readTree(file.toFile());

        assertThat(schemaErrors(manifest)).as("schema").anySatisfy(m -> assertThat(m.getMessage()).contains("memory"));
        List<FieldError> errors = validatorErrors(manifest);
        assertThat(errors).extracting(FieldError::toString).containsExactly("spec.memory \"12Zi\" is not a quantity (example: 512Mi)");
        assertThat(Files.readString(file)).as("the comment shows the user's error").contains(errors.getFirst().toString());
    }
}
