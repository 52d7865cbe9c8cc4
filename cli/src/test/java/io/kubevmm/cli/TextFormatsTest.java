package io.kubevmm.cli;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The small formats users read and type: ages, durations, JSONPath of printer columns. */
class TextFormatsTest {

    @Test
    void agesReadLikeKubectls() {
        assertThat(Age.of(Duration.ofSeconds(5))).isEqualTo("5s");
        assertThat(Age.of(Duration.ofSeconds(119))).isEqualTo("119s");
        assertThat(Age.of(Duration.ofMinutes(3))).isEqualTo("3m");
        assertThat(Age.of(Duration.ofSeconds(192))).isEqualTo("3m12s");
        assertThat(Age.of(Duration.ofMinutes(45))).isEqualTo("45m");
        assertThat(Age.of(Duration.ofHours(2))).as("kubectl counts minutes up to 3h").isEqualTo("120m");
        assertThat(Age.of(Duration.ofHours(3))).isEqualTo("3h");
        assertThat(Age.of(Duration.ofMinutes(245))).isEqualTo("4h5m");
        assertThat(Age.of(Duration.ofHours(20))).isEqualTo("20h");
        assertThat(Age.of(Duration.ofDays(4))).isEqualTo("4d");
        assertThat(Age.of(Duration.ofHours(99))).isEqualTo("4d3h");
        assertThat(Age.of(Duration.ofDays(30))).isEqualTo("30d");
        assertThat(Age.since(null, java.time.Instant.now())).isEqualTo("<unknown>");
    }

    @Test
    void durationsAcceptKubectlsUnits() {
        assertThat(Durations.parse("120s")).isEqualTo(Duration.ofSeconds(120));
        assertThat(Durations.parse("2m")).isEqualTo(Duration.ofMinutes(2));
        assertThat(Durations.parse("1h30m")).isEqualTo(Duration.ofMinutes(90));
        assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(Durations.parse("30")).isEqualTo(Duration.ofSeconds(30));
        assertThatThrownBy(() -> Durations.parse("soon")).hasMessageContaining("\"soon\" is not a duration");
    }

    @Test
    void jsonPathReadsPrinterColumnPathsIncludingTheConditionFilter() {
        Map<String, Object> vm = Map.of("status", Map.of("phase", "Running", "conditions", List.of(
                Map.of("type", "Valid", "status", "True"),
                Map.of("type", "Ready", "status", "False"))));

        assertThat(JsonPath.read(vm, ".status.phase")).isEqualTo("Running");
        assertThat(JsonPath.read(vm, ".status.conditions[?(@.type==\"Ready\")].status")).isEqualTo("False");
        assertThat(JsonPath.read(vm, ".status.conditions[0].type")).isEqualTo("Valid");
        assertThat(JsonPath.read(vm, ".status.conditions[?(@.type==\"Migratable\")].status")).isNull();
        assertThat(JsonPath.read(vm, ".status.nodeName")).isNull();
    }

    @Test
    @SuppressWarnings("unchecked")
    void applyPatchSetsChangesAndDropsOnlyWhatWasAppliedBefore() {
        Map<String, Object> last = Map.of("spec", Map.of("memory", "256Mi", "readiness", Map.of("serialPattern", "X")));
        Map<String, Object> live = Map.of("spec", Map.of("memory", "256Mi", "cpu", 1, "readiness", Map.of("serialPattern", "X")),
                "status", Map.of("phase", "Running"));
        Map<String, Object> desired = Map.of("spec", Map.of("memory", "512Mi"));

        Map<String, Object> patch = ApplyPatch.compute(last, live, desired);

        assertThat(patch).containsOnlyKeys("spec");
        assertThat((Map<String, Object>) patch.get("spec")).containsEntry("memory", "512Mi").containsEntry("readiness", null)
                .doesNotContainKey("cpu");
        assertThat(ApplyPatch.compute(desired, Map.of("spec", Map.of("memory", "512Mi", "cpu", 1L)), desired)).isEmpty();
    }
}
