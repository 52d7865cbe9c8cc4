package io.kubevmm.node.lifecycle;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** A clock that moves only when the test says, with the timers a runner set on it. */
final class ManualTime implements RunnerTime {
    record Timer(Instant due, Duration delay, Runnable task) { }

    private Instant now = Instant.parse("2026-01-01T00:00:00Z");
    private final List<Timer> timers = new ArrayList<>();

    @Override
    public synchronized Instant now() {
        return now;
    }

    @Override
    public synchronized void after(Duration delay, Runnable task) {
        timers.add(new Timer(now.plus(delay), delay, task));
    }

    /** Moves the clock on by {@code step} and runs the timers that fell due, in order. */
    void advance(Duration step) {
        List<Timer> due = new ArrayList<>();
        synchronized (this) {
            now = now.plus(step);
            for (Timer t : List.copyOf(timers)) {
                if (!t.due().isAfter(now)) {
                    due.add(t);
                    timers.remove(t);
                }
            }
        }
        due.forEach(t -> t.task().run());
    }

    /** The delays of the timers not yet run, in the order they were set. */
    synchronized List<Duration> pendingDelays() {
        return timers.stream().map(Timer::delay).toList();
    }
}
