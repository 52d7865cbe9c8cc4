package io.kubevmm.cli;

import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The options of a command that starts a long operation and then follows it ({@code --no-wait},
 * {@code --timeout}, and {@code --interval}, hidden, so tests can poll fast), with the follow loop
 * itself: one line per change of progress, and when the time is up, a message saying that the
 * operation goes on and where to look at it. Used as a picocli mixin.
 */
final class FollowOptions {
    @Option(names = "--no-wait", description = "Start the operation and return without following it.")
    boolean noWait;

    @Option(names = "--timeout", defaultValue = "30m", paramLabel = "DURATION",
            description = "Stop following after this long (default: ${DEFAULT-VALUE}); the operation goes on.")
    String timeoutText;

    @Option(names = "--interval", defaultValue = "500ms", hidden = true)
    String intervalText;

    /** For picocli, which fills in the options. */
    FollowOptions() { }

    /** For a command whose operation takes longer than most (other defaults, so options of its own). */
    FollowOptions(String timeoutText, String intervalText) {
        this.timeoutText = timeoutText;
        this.intervalText = intervalText;
    }

    /**
     * Follows the operation until {@code done} holds and returns its last state.
     *
     * @param operation what goes on when following stops, e.g. {@code migration}
     * @param lookAt    the command that shows it afterwards, e.g. {@code kubevmm get vmmig demo-1}
     * @throws CliException the time is up (the operation goes on), or {@code fetch} found it gone
     */
    <T> T follow(PrintWriter out, String operation, String lookAt, Supplier<T> fetch, Function<T, String> progressLine,
                 Predicate<T> done) throws InterruptedException {
        return Follow.until(out, Durations.parse(timeoutText), Durations.parse(intervalText), fetch, progressLine, done)
                .orElseThrow(() -> new CliException("stopped following after " + timeoutText + "; the " + operation
                        + " goes on: " + lookAt));
    }
}
