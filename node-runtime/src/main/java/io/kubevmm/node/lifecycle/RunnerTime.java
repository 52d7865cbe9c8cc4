package io.kubevmm.node.lifecycle;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Where a runner reads the time for status and backoff, and sets the timers of its retries. Tests
 * substitute a clock they advance by hand, so backoff runs in milliseconds.
 */
interface RunnerTime {
    Instant now();

    /** Runs {@code task} once {@code delay} has passed, on another thread. */
    void after(Duration delay, Runnable task);

    RunnerTime SYSTEM = new RunnerTime() {
        @Override
        public Instant now() {
            return Instant.now();
        }

        @Override
        public void after(Duration delay, Runnable task) {
            CompletableFuture.delayedExecutor(delay.toMillis(), TimeUnit.MILLISECONDS).execute(task);
        }
    };
}
