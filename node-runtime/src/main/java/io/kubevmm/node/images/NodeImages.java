package io.kubevmm.node.images;

import io.kubevmm.api.v1alpha1.HttpSource;
import io.kubevmm.node.config.NodeConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The node's image cache as the node runtime uses it: one {@link ImageCache} under
 * {@code <stateDir>/image-cache}, downloads on virtual threads through the JDK's HTTP client,
 * a {@link CacheSweeper} pass at start and every {@code image-cache.sweep-interval}, and the
 * metrics {@code kubevmm.image.downloads} (by outcome) and {@code kubevmm.image.download.bytes}.
 */
@ApplicationScoped
public class NodeImages {
    private final ImageCache cache;
    private final CacheSweeper sweeper;
    private final Duration sweepInterval;
    private final ScheduledExecutorService sweeps = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("image-cache-sweep").daemon().factory());

    NodeImages(NodeConfig config, MeterRegistry registry) {
        NodeConfig.ImageCache settings = config.imageCache();
        HttpClient client = HttpClient.newBuilder()
                .connectTimeout(settings.connectTimeout())
                .followRedirects(HttpClient.Redirect.NORMAL)
                .build();
        Path state = config.stateDir().toAbsolutePath().normalize();
        this.cache = new ImageCache(state.resolve("image-cache"), client, Executors.newVirtualThreadPerTaskExecutor(),
                settings.readTimeout(), settings.retryAfter(), Clock.systemUTC());
        this.sweeper = new CacheSweeper(cache, List.of(state.resolve("vms"), state.resolve("snapshots")),
                settings.keepUnused(), Clock.systemUTC());
        this.sweepInterval = settings.sweepInterval();
        cache.onOutcome(outcome -> {
            String result = outcome.failure() == null ? "Ready" : outcome.failure().reason().name();
            Counter.builder("kubevmm.image.downloads").description("Image downloads into the node's cache, by outcome")
                    .tag("outcome", result).register(registry).increment();
            Counter.builder("kubevmm.image.download.bytes").description("Bytes downloaded into the node's image cache")
                    .register(registry).increment(outcome.bytes());
        });
    }

    void onStart(@Observes StartupEvent event) {
        sweeps.scheduleWithFixedDelay(sweeper::sweep, 0, sweepInterval.toMillis(), TimeUnit.MILLISECONDS);
    }

    void onStop(@Observes ShutdownEvent event) {
        sweeps.shutdownNow();
    }

    /** The cached file of {@code source}, starting its download if needed. */
    public ImageState ensure(HttpSource source) {
        return cache.ensure(source.getUrl(), source.getSha256());
    }

    public static String host(HttpSource source) {
        return Download.hostOf(source.getUrl());
    }

    public ImageCache cache() { return cache; }
}
