package io.kubevmm.node.metrics;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/** Node metrics on an in-memory registry, for tests that build node parts without Quarkus. */
public final class TestMetrics {
    private TestMetrics() { }

    public static NodeMetrics inMemory() {
        return new NodeMetrics(new SimpleMeterRegistry());
    }
}
