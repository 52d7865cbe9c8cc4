package io.kubevmm.node.metrics;

import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.node.lifecycle.Action;
import io.kubevmm.node.lifecycle.VmRunner;
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

    /** Registers the VMs-per-phase gauges over a live view of the node's runners. */
    public void trackPhases(Supplier<Stream<VmRunner>> runners) {
        for (InstancePhase phase : InstancePhase.values()) {
            Gauge.builder("kubevmm.vms", runners, r -> r.get().filter(v -> v.observe().phase() == phase).count())
                    .description("VMs on this node by phase")
                    .tag("phase", phase.name())
                    .register(registry);
        }
    }

    public void bootTime(Duration took) {
        Timer.builder("kubevmm.vm.boot")
                .description("Time from vCPU start to the guest's readiness line on its console")
                .publishPercentileHistogram()
                .register(registry)
                .record(took);
    }

    public void operation(Action action, Duration took, boolean succeeded) {
        Timer.builder("kubevmm.vm.operation")
                .description("Lifecycle operations on VMs and how long they took")
                .tags("operation", action.name().toLowerCase(Locale.ROOT), "outcome", succeeded ? "success" : "failure")
                .register(registry)
                .record(took);
    }

    /** Per-VM CPU seconds and resident memory of the VM's emulator process, while it has one. */
    public void track(String namespace, String name, VmRunner runner) {
        Tags tags = Tags.of("namespace", namespace, "vm", name);
        perVm.computeIfAbsent(namespace + "/" + name, k -> List.of(
                FunctionCounter.builder("kubevmm.vm.cpu", runner, r -> pidStat(r, true))
                        .description("CPU time used by the VM's emulator process")
                        .baseUnit("seconds").tags(tags).register(registry),
                Gauge.builder("kubevmm.vm.memory.resident", runner, r -> pidStat(r, false))
                        .description("Resident memory of the VM's emulator process")
                        .baseUnit("bytes").tags(tags).register(registry)));
    }

    public void untrack(String namespace, String name) {
        List<Meter> meters = perVm.remove(namespace + "/" + name);
        if (meters != null) {
            meters.forEach(registry::remove);
        }
    }

    private static double pidStat(VmRunner runner, boolean cpu) {
        Long pid = runner.observe().pid();
        if (pid == null) {
            return 0;
        }
        double value = cpu ? ProcessStats.cpuSeconds(pid) : ProcessStats.residentBytes(pid);
        return Double.isNaN(value) ? 0 : value;
    }
}
