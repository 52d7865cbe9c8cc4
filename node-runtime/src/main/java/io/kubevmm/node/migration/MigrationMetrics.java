package io.kubevmm.node.migration;

import io.kubevmm.node.engine.MigrationTotals;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/** Live-migration metrics of this node: downtime and total time, bytes, passes, in flight, outcomes. */
@ApplicationScoped
public class MigrationMetrics {
    private final MeterRegistry registry;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Timer downtime;
    private final Timer total;
    private final Counter bytes;
    private final DistributionSummary iterations;

    MigrationMetrics(MeterRegistry registry) {
        this.registry = registry;
        registry.gauge("kubevmm.migrations.inflight", inFlight);
        this.downtime = Timer.builder("kubevmm.migration.downtime").description("guest pause at switchover, measured by QEMU")
                .publishPercentileHistogram().register(registry);
        this.total = Timer.builder("kubevmm.migration.total").description("start of transfer to completion")
                .publishPercentileHistogram().register(registry);
        this.bytes = Counter.builder("kubevmm.migration.transferred").baseUnit("bytes").register(registry);
        this.iterations = DistributionSummary.builder("kubevmm.migration.iterations").description("passes over guest memory")
                .register(registry);
    }

    void started() {
        inFlight.incrementAndGet();
    }

    void succeeded(MigrationTotals totals) {
        inFlight.decrementAndGet();
        downtime.record(Duration.ofMillis(totals.downtimeMillis()));
        total.record(Duration.ofMillis(totals.totalTimeMillis()));
        bytes.increment(totals.transferredBytes());
        iterations.record(totals.iterations());
        outcome("Succeeded");
    }

    void ended(String phase) {
        inFlight.decrementAndGet();
        outcome(phase);
    }

    void targetDropped() {
        registry.counter("kubevmm.migration.targets.dropped").increment();
    }

    private void outcome(String phase) {
        registry.counter("kubevmm.migration.outcomes", "outcome", phase).increment();
    }
}
