package io.kubevmm.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Duration;

/**
 * {@code console NAME [--follow]}: the guest's serial console, fetched from the node runtime
 * that runs it (found through the VMI's node and that VMNode's endpoint).
 */
@Command(name = "console", description = "Print a VM's serial console (the last lines; --follow to keep printing).")
final class ConsoleCommand extends ClusterCommand {
    static final Duration FOLLOW_INTERVAL = Duration.ofMillis(500);
    static final Duration FOLLOW_GIVE_UP = Duration.ofSeconds(30);

    @Parameters(paramLabel = "NAME")
    String name;

    @Option(names = {"-f", "--follow"}, description = "Keep printing new output until Ctrl-C.")
    boolean follow;

    @Option(names = "--lines", defaultValue = "100", paramLabel = "N", description = "How many last lines to print first (default: ${DEFAULT-VALUE}).")
    int lines;

    @Override
    public Integer call() throws InterruptedException {
        NodeConsole console = connect();
        NodeConsole.Chunk chunk = console.tail(namespace(), name, lines);
        print(chunk.text());
        long offset = chunk.offset();
        long failingSince = 0;
        try {
            while (follow && offset >= 0) {
                Thread.sleep(FOLLOW_INTERVAL);
                try {
                    chunk = console.from(namespace(), name, offset);
                    failingSince = 0;
                } catch (CliException e) {
                    // A node runtime restarting is a pause in the output, not the end of it.
                    failingSince = failingSince == 0 ? System.nanoTime() : failingSince;
                    if (System.nanoTime() - failingSince > FOLLOW_GIVE_UP.toNanos()) {
                        throw e;
                    }
                    continue;
                }
                print(chunk.text());
                offset = chunk.offset();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // being stopped is how --follow ends
        }
        return 0;
    }

    private void print(String text) {
        out().print(text);
        out().flush();
    }

    private NodeConsole connect() {
        NodeAccess.VmNode at = NodeAccess.locate(objects(), env(), namespace(), name);
        return new NodeConsole(at.node(), at.endpoint(), at.token());
    }
}
