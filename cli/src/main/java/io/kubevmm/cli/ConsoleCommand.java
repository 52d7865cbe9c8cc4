package io.kubevmm.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * {@code console NAME [--follow]}: the guest's serial console, fetched from the node runtime
 * that runs it (found through the VMI's node and that VMNode's endpoint).
 */
@Command(name = "console", description = "Print a VM's serial console (the last lines; --follow to keep printing).")
final class ConsoleCommand extends ClusterCommand {
    static final String TOKEN_VARIABLE = "KUBEVMM_NODE_TOKEN";
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

    /** VMI → its node → that VMNode's endpoint, plus the token: each step says what is missing. */
    private NodeConsole connect() {
        ClusterObjects objects = objects();
        Map<String, Object> vmi = objects.find(Kind.VMI, namespace(), name).map(ClusterObjects::tree).orElse(null);
        if (vmi == null) {
            Map<String, Object> vm = objects.find(Kind.VM, namespace(), name).map(ClusterObjects::tree)
                    .orElseThrow(() -> ClusterObjects.notFound(Kind.VM, namespace(), name));
            throw new CliException("virtualmachine \"" + name + "\" has no instance on any node (phase "
                    + JsonPath.string(vm, ".status.phase") + ", spec.state " + JsonPath.string(vm, ".spec.state")
                    + "); start it with: kubevmm start " + name);
        }
        String node = JsonPath.string(vmi, ".status.nodeName");
        node = node != null ? node : JsonPath.string(vmi, ".spec.nodeName");
        if (node == null) {
            throw new CliException("virtualmachine \"" + name + "\" is not placed on a node yet; wait with: kubevmm wait vm "
                    + name + " --for phase=Running");
        }
        Map<String, Object> vmNode = ClusterObjects.tree(objects.require(Kind.VMNODE, null, node));
        String endpoint = JsonPath.string(vmNode, ".status.endpoint");
        if (endpoint == null) {
            throw new CliException("vmnode \"" + node + "\" reports no status.endpoint; is its node runtime running? kubevmm describe vmnode " + node);
        }
        return new NodeConsole(node, endpoint, token());
    }

    /** The node API token: $KUBEVMM_NODE_TOKEN, else the local cluster's .kubevmm/node-token. */
    private String token() {
        var fromEnv = env().variable(TOKEN_VARIABLE);
        if (fromEnv.isPresent()) {
            return fromEnv.get().strip();
        }
        Path file = env().localClusterFile("node-token").orElseThrow(() -> new CliException(
                "no node API token: set " + TOKEN_VARIABLE + " to the token the node runtimes were started with, or run from"
                        + " the directory of a local cluster (bin/kubevmm local up writes .kubevmm/node-token)"));
        try {
            return Files.readString(file).strip();
        } catch (IOException e) {
            throw new CliException("cannot read the node API token from " + file + " (" + ApiErrors.reason(e) + ")");
        }
    }
}
