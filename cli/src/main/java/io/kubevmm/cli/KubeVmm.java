package io.kubevmm.cli;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code kubevmm}: drives KubeVMM objects the way kubectl and virtctl drive theirs. Also runs as
 * the kubectl plugin {@code kubectl vm}. Exit code 0 on success, 1 on any error.
 */
// scope INHERIT: every subcommand gets -h/--help and -V/--version too, so `kubevmm get --help`
// prints the usage instead of complaining about the missing NAME.
@Command(name = "kubevmm", mixinStandardHelpOptions = true, scope = ScopeType.INHERIT, version = "kubevmm 0.1.0",
        description = "Run and manage virtual machines on Kubernetes with KubeVMM.",
        footer = {"", "Local cluster: bin/kubevmm local up | status | down (bin/kubevmm local --help)",
                "Help on one command: kubevmm help COMMAND or kubevmm COMMAND --help"},
        subcommands = {ApplyCommand.class, GetCommand.class, DescribeCommand.class, DeleteCommand.class,
                StartCommand.class, StopCommand.class, SuspendCommand.class, ResumeCommand.class,
                WaitCommand.class, ConsoleCommand.class, PortForwardCommand.class, SshCommand.class, MigrateCommand.class, EvacuateCommand.class,
                SnapshotCommand.class, RestoreCommand.class, CommandLine.HelpCommand.class})
public final class KubeVmm implements Runnable {
    @Option(names = "--kubeconfig", scope = ScopeType.INHERIT, paramLabel = "PATH",
            description = {"Kubeconfig file. Default: $KUBECONFIG, else the local cluster's",
                    "  .kubevmm/kubeconfig, else ~/.kube/config"})
    String kubeconfig;

    @Option(names = {"-n", "--namespace"}, scope = ScopeType.INHERIT, defaultValue = "default", paramLabel = "NS",
            description = "Namespace (default: ${DEFAULT-VALUE}).")
    String namespace;

    @Spec
    CommandSpec spec;

    private final Environment environment;
    private KubernetesClient client;

    public KubeVmm(Environment environment) {
        this.environment = environment;
    }

    public static void main(String[] args) {
        KubeVmm root = new KubeVmm(Environment.system());
        int code = commandLine(root).execute(args);
        root.close();
        System.exit(code);
    }

    /** The command line with kubevmm's error handling: {@code error: <what to do>} and exit code 1. */
    public static CommandLine commandLine(KubeVmm root) {
        CommandLine cmd = new CommandLine(root);
        cmd.setExecutionExceptionHandler((e, command, parsed) -> {
            command.getErr().println("error: " + message(e, root));
            command.getErr().flush();
            return 1;
        });
        cmd.setParameterExceptionHandler((e, args) -> {
            CommandLine command = e.getCommandLine();
            command.getErr().println("error: " + e.getMessage().replaceFirst("^Error: ", ""));
            command.getErr().println("See '" + command.getCommandSpec().qualifiedName() + " --help'.");
            command.getErr().flush();
            return 1;
        });
        return cmd;
    }

    static String message(Exception e, KubeVmm root) {
        if (e instanceof CliException) {
            return e.getMessage();
        }
        if (e instanceof KubernetesClientException k) {
            return ApiErrors.describe(k, root.client);
        }
        return e.toString();
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    Environment environment() {
        return environment;
    }

    /** The cluster client, connected on first use so {@code --help} works without a cluster. */
    synchronized KubernetesClient client() {
        if (client == null) {
            client = environment.client() != null ? environment.client() : ClusterConnection.connect(kubeconfig, environment);
        }
        return client;
    }

    /** Closes a client this command built (one passed in belongs to the caller). */
    synchronized void close() {
        if (client != null && client != environment.client()) {
            client.close();
        }
    }
}
