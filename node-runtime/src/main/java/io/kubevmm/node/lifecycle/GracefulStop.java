package io.kubevmm.node.lifecycle;

import java.time.Duration;
import java.util.List;

/**
 * How a stopping guest is brought down within its grace period ({@code terminationGracePeriodSeconds}):
 * through the guest agent first when one is connected ({@code guest-shutdown}, the guest's own
 * orderly power-off), then the ACPI power button, then the process is ended. Each way is given
 * until its deadline, counted from the start of the stop: with an agent, the agent has the first
 * half of the grace and ACPI the rest; without one (or when the agent refuses at once) ACPI has
 * all of it. Pure, so the split is unit-testable.
 */
final class GracefulStop {

    enum Way {
        AGENT("through the guest agent (guest-shutdown)"),
        ACPI("by the ACPI power button"),
        KILL("by ending its process");

        final String words;

        Way(String words) {
            this.words = words;
        }
    }

    /** Try {@code way}, then wait for the guest to power off until {@code until} after the stop began. */
    record Step(Way way, Duration until) { }

    private GracefulStop() { }

    static List<Step> plan(Duration grace, boolean agentConnected) {
        if (grace.isNegative()) {
            grace = Duration.ZERO;
        }
        if (!agentConnected) {
            return List.of(new Step(Way.ACPI, grace), new Step(Way.KILL, grace));
        }
        return List.of(new Step(Way.AGENT, grace.dividedBy(2)), new Step(Way.ACPI, grace), new Step(Way.KILL, grace));
    }
}
