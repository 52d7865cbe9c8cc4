package io.kubevmm.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Follows a long operation by polling its object: prints a timestamped line whenever the
 * progress line changes, until the object is done or the time is up.
 */
final class Follow {
    private Follow() { }

    /**
     * @param fetch  reads the object again (may throw a {@link CliException}, e.g. when it was deleted)
     * @return the object once {@code done} holds; empty when {@code timeout} passed first
     */
    static <T> Optional<T> until(PrintWriter out, Duration timeout, Duration interval, Supplier<T> fetch,
                                 Function<T, String> progressLine, Predicate<T> done) throws InterruptedException {
        long start = System.nanoTime();
        String last = null;
        while (System.nanoTime() - start < timeout.toNanos()) {
            T now = fetch.get();
            String line = progressLine.apply(now);
            if (!Objects.equals(line, last)) {
                out.printf("[%5.1fs] %s%n", (System.nanoTime() - start) / 1e9, line);
                out.flush();
                last = line;
            }
            if (done.test(now)) {
                return Optional.of(now);
            }
            Thread.sleep(interval);
        }
        return Optional.empty();
    }
}
