package io.kubevmm.api;

import io.kubevmm.api.v1alpha1.Crds;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The CRD YAML committed under crds/ (what users and the Helm chart install) must be exactly
 * what fabric8's crd-generator makes of the Java model in this build.
 */
class CrdYamlTest {
    static final String UPDATE_COMMAND = "mvn -B -pl crds test -Dtest=CrdYamlTest -Dkubevmm.crds.update=true";

    @Test
    void committedCrdYamlIsWhatTheBuildGenerates() throws IOException {
        Path generatedDir = Path.of("target/classes/META-INF/fabric8");
        boolean update = Boolean.getBoolean("kubevmm.crds.update");
        for (String plural : Crds.PLURALS) {
            String file = plural + ".kubevmm.io-v1.yml";
            Path generated = generatedDir.resolve(file);
            Path committed = Path.of(file);
            assertThat(generated).as("generated CRD for " + plural).exists();
            if (update) {
                Files.copy(generated, committed, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            assertThat(committed).as("committed crds/" + file + "; create it with: " + UPDATE_COMMAND).exists();
            assertThat(Files.readString(committed))
                    .as("crds/" + file + " differs from what the Java model generates;"
                            + " regenerate with (in the repository root): " + UPDATE_COMMAND)
                    .isEqualTo(Files.readString(generated));
        }
    }
}
