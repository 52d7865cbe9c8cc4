package io.kubevmm.node.lifecycle;

import java.time.Duration;

/**
 * Exponential backoff, capped: the n-th attempt in a row waits {@code initial · 2^(n-1)}, never
 * more than {@code cap}. The one formula behind every retry of the lifecycle (a failed step,
 * adoption of an emulator that does not answer, restarts of a guest that keeps going down).
 */
record Backoff(Duration initial, Duration cap) {

    /** The wait before attempt {@code attempt} (1 = the first retry); zero for anything below 1. */
    Duration delay(int attempt) {
        if (attempt < 1) {
            return Duration.ZERO;
        }
        Duration wait = initial;
        for (int i = 1; i < attempt && wait.compareTo(cap) < 0; i++) {
            wait = wait.multipliedBy(2);
        }
        return wait.compareTo(cap) > 0 ? cap : wait;
    }
}
