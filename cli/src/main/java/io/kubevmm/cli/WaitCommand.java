package io.kubevmm.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Duration;
import java.util.Map;

/** {@code wait KIND NAME --for ...}: polls until met, printing a line each time the object moves. */
@Command(name = "wait", description = "Wait for a phase, a condition or deletion, showing progress.")
final class WaitCommand extends ClusterCommand {
    @Parameters(index = "0", paramLabel = "KIND")
    String kindName;

    @Parameters(index = "1", paramLabel = "NAME")
    String name;

    @Option(names = "--for", required = true, paramLabel = "WHAT",
            description = "phase=PHASE, condition=TYPE (True), condition=TYPE=False, or delete.")
    String forText;

    @Option(names = "--timeout", defaultValue = "120s", paramLabel = "DURATION", description = "Give up after this long (default: ${DEFAULT-VALUE}).")
    String timeoutText;

    @Option(names = "--interval", defaultValue = "500ms", hidden = true)
    String intervalText;

    @Override
    public Integer call() throws InterruptedException {
        Kind kind = Kind.parse(kindName);
        WaitFor target = WaitFor.parse(forText);
        Duration timeout = Durations.parse(timeoutText);
        Duration interval = Durations.parse(intervalText);
        ClusterObjects objects = objects();
        String who = kind.singular() + " " + name;
        long start = System.nanoTime();
        String lastState = null;
        while (true) {
            Map<String, Object> object = objects.find(kind, namespace(), name).map(ClusterObjects::tree).orElse(null);
            String state = target.describe(object);
            double elapsed = (System.nanoTime() - start) / 1e9;
            if (!state.equals(lastState)) {
                out().printf("[%5.1fs] %s: %s%n", elapsed, who, state);
                out().flush();
                lastState = state;
            }
            if (target.isMet(object)) {
                out().printf("%s condition met (%s) after %.1fs%n", kind.ref(name), target, elapsed);
                out().flush();
                return 0;
            }
            if (System.nanoTime() - start >= timeout.toNanos()) {
                throw new CliException("timed out after " + timeoutText + " waiting for " + who + kind.where(namespace())
                        + " to reach " + target + "; last seen: " + state
                        + (object == null ? "" : ". See: kubevmm describe " + kind.shortName + " " + name));
            }
            Thread.sleep(interval);
        }
    }
}
