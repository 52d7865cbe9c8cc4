package io.kubevmm.node.metrics;

import io.kubevmm.api.v1alpha1.InstancePhase;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.stream.Stream;

/** The node's Prometheus metrics: boots, lifecycle operations, VMs per phase, per-VM CPU and memory. */
@ApplicationScoped
public class NodeMetrics {
    private final MeterRegistry registry;
    private final Map<String, List<Meter>> perVm = new ConcurrentHashMap<>();

    NodeMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** Registers the VMs-per-phase gauges over a live view of the phases of the node's VMs. */
    public void trackPhases(Supplier<Stream<InstancePhase>> phases) {
        for (InstancePhase phase : InstancePhase.values()) {
            Gauge.builder("kubevmm.vms", phases, p -> p.get().filter(v -> v == phase).count())
                    .description("VMs on this node by phase")
                    .tag("phase", phase.name())
                    .strongReference(true) // the supplier is a lambda only the gauge holds: weakly held, a GC would drop it
                    .register(registry);
        }
    }

    /** How many of this node's VMs have a guest agent that answers. */
    public void trackGuestAgents(Supplier<Long> connected) {
        Gauge.builder("kubevmm.guest.agents.connected", connected, c -> c.get())
                .description("VMs on this node whose qemu-guest-agent is connected")
                .strongReference(true)
                .register(registry);
    }

    public void bootTime(Duration took) {
        Timer.builder("kubevmm.vm.boot")
                .description("Time from vCPU start to the guest's readiness line on its console")
                .publishPercentileHistogram()
                .register(registry)
                .record(took);
    }

    /** One lifecycle operation ({@code action}: the lifecycle's name for it, e.g. {@code START}). */
    public void operation(String action, Duration took, boolean succeeded) {
        Timer.builder("kubevmm.vm.operation")
                .description("Lifecycle operations on VMs and how long they took")
                .tags("operation", action.toLowerCase(Locale.ROOT), "outcome", succeeded ? "success" : "failure")
                .register(registry)
                .record(took);
    }

    /**
     * Per-VM CPU seconds and resident memory of the VM's emulator process, while it has one
     * ({@code pid} answers null while it has none).
     */
    public void track(String namespace, String name, Supplier<Long> pid) {
        Tags tags = Tags.of("namespace", namespace, "vm", name);
        perVm.computeIfAbsent(namespace + "/" + name, k -> List.of(
                FunctionCounter.builder("kubevmm.vm.cpu", pid, p -> pidStat(p, true))
                        .description("CPU time used by the VM's emulator process")
                        .baseUnit("seconds").tags(tags).register(registry), // pid stays reachable: the gauge below holds it strongly
                Gauge.builder("kubevmm.vm.memory.resident", pid, p -> pidStat(p, false))
                        .description("Resident memory of the VM's emulator process")
                        .baseUnit("bytes").tags(tags).strongReference(true).register(registry)));
    }

    public void untrack(String namespace, String name) {
        List<Meter> meters = perVm.remove(namespace + "/" + name);
        if (meters != null) {
            meters.forEach(registry::remove);
        }
    }

    private static double pidStat(Supplier<Long> of, boolean cpu) {
        Long pid = of.get();
        if (pid == null) {
            return 0;
        }
        double value = cpu ? ProcessStats.cpuSeconds(pid) : ProcessStats.residentBytes(pid);
        return Double.isNaN(value) ? 0 : value;
    }
}
