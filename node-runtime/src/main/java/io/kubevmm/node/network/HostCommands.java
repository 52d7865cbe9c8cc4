package io.kubevmm.node.network;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the host's networking tools (iproute2's {@code ip} and {@code bridge}, {@code nft},
 * {@code sysctl}, {@code dnsmasq}) as argument lists, never through a shell. A prefix is put in
 * front of every command: empty in production, {@code ip netns exec <ns>} where the node's network
 * is a namespace of its own (tests, a local cluster whose nodes act as separate hosts).
 */
public final class HostCommands {
    private static final long TIMEOUT_SECONDS = 30;
    private final List<String> prefix;

    public HostCommands(List<String> prefix) {
        this.prefix = List.copyOf(prefix);
    }

    /** The node's own network: no prefix. */
    public static HostCommands host() {
        return new HostCommands(List.of());
    }

    /** Inside network namespace {@code namespace} ({@code ip netns exec}). */
    public static HostCommands inNamespace(String namespace) {
        if (!namespace.matches("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}")) {
            throw new NetworkException("network namespace \"" + namespace + "\" is not a plain name");
        }
        return new HostCommands(List.of("ip", "netns", "exec", namespace));
    }

    /** The full command line {@code args} run as. */
    public List<String> command(List<String> args) {
        List<String> all = new ArrayList<>(prefix);
        all.addAll(args);
        return all;
    }

    /** What a command printed and how it ended. */
    public record Result(int exitCode, String stdout, String stderr) {
        public boolean ok() { return exitCode == 0; }
    }

    /** Runs {@code args}; whatever the exit code. */
    public Result tryRun(String... args) {
        return tryRun(List.of(args), null);
    }

    /** Runs {@code args} with {@code stdin} (or nothing) as its input; whatever the exit code. */
    public Result tryRun(List<String> args, String stdin) {
        List<String> command = command(args);
        try {
            Process p = new ProcessBuilder(command).redirectInput(stdin == null ? ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())
                    : ProcessBuilder.Redirect.PIPE).start();
            if (stdin != null) {
                try (var in = p.getOutputStream()) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            }
            var out = p.getInputStream().readAllBytes();
            var err = p.getErrorStream().readAllBytes();
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new NetworkException(String.join(" ", command) + " did not finish within " + TIMEOUT_SECONDS + " s");
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8).strip());
        } catch (IOException e) {
            throw new NetworkException("cannot run " + String.join(" ", command) + ": " + e.getMessage()
                    + " (the node needs iproute2, nftables and dnsmasq-base)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NetworkException("interrupted while running " + String.join(" ", command), e);
        }
    }

    /** Runs {@code args} and returns its output; a non-zero exit is an error naming the command and its message. */
    public String run(String... args) {
        return run(List.of(args), null);
    }

    public String run(List<String> args, String stdin) {
        Result r = tryRun(args, stdin);
        if (!r.ok()) {
            throw new NetworkException(String.join(" ", command(args)) + " failed (exit " + r.exitCode() + "): " + r.stderr());
        }
        return r.stdout();
    }

    /** Starts a long-running {@code args} (dnsmasq), its output appended to {@code log}. */
    public Process start(List<String> args, Path log) {
        List<String> command = command(args);
        try {
            return new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
        } catch (IOException e) {
            throw new NetworkException("cannot start " + String.join(" ", command) + ": " + e.getMessage(), e);
        }
    }
}
