package io.kubevmm.node.snapshot;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Duration;

/** Snapshot pause, duration, size and outcomes; restore duration. */
@ApplicationScoped
public class SnapshotMetrics {
    private final MeterRegistry registry;
    private final Timer pause;
    private final DistributionSummary size;
    private final Timer restore;

    SnapshotMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.pause = Timer.builder("kubevmm.snapshot.pause").description("how long the guest was paused for a snapshot")
                .publishPercentileHistogram().register(registry);
        this.size = DistributionSummary.builder("kubevmm.snapshot.size").baseUnit("bytes").description("artifacts stored per snapshot")
                .register(registry);
        this.restore = Timer.builder("kubevmm.restore.duration").description("restore request to a running guest")
                .publishPercentileHistogram().register(registry);
    }

    void taken(StoredSnapshot snapshot) {
        var m = snapshot.manifest();
        pause.record(Duration.ofMillis(m.pauseMillis()));
        size.record(m.sizeBytes());
        Timer.builder("kubevmm.snapshot.duration").tag("type", m.type().name()).publishPercentileHistogram()
                .register(registry).record(Duration.ofMillis(m.durationMillis()));
        outcome("Ready");
    }

    void outcome(String outcome) {
        registry.counter("kubevmm.snapshot.outcomes", "outcome", outcome).increment();
    }

    public void restored(Duration took) {
        restore.record(took);
    }
}
