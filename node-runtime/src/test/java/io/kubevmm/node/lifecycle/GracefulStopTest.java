package io.kubevmm.node.lifecycle;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class GracefulStopTest {
    @Test
    void withAConnectedAgentItHasTheFirstHalfOfTheGraceAndAcpiTheRest() {
        assertThat(GracefulStop.plan(Duration.ofSeconds(30), true)).containsExactly(
                new GracefulStop.Step(GracefulStop.Way.AGENT, Duration.ofSeconds(15)),
                new GracefulStop.Step(GracefulStop.Way.ACPI, Duration.ofSeconds(30)),
                new GracefulStop.Step(GracefulStop.Way.KILL, Duration.ofSeconds(30)));
    }

    @Test
    void withoutAnAgentAcpiHasTheWholeGrace() {
        assertThat(GracefulStop.plan(Duration.ofSeconds(30), false)).containsExactly(
                new GracefulStop.Step(GracefulStop.Way.ACPI, Duration.ofSeconds(30)),
                new GracefulStop.Step(GracefulStop.Way.KILL, Duration.ofSeconds(30)));
    }

    @Test
    void aZeroGraceEndsTheProcessAtOnce() {
        assertThat(GracefulStop.plan(Duration.ZERO, true)).allSatisfy(step -> assertThat(step.until()).isZero());
    }
}
