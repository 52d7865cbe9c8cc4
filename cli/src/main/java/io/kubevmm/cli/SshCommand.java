package io.kubevmm.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code ssh [USER@]vm/NAME [-i KEY] [-- COMMAND...]}: the system ssh client into a VM's guest,
 * tunnelled through the node runtime's API by {@code port-forward --stdio}. ssh's output and
 * exit code are the command's.
 */
@Command(name = "ssh", description = {"Log in to a VM's guest with ssh (through the node API).",
        "The VM needs spec.network.mode: user and an sshd that takes your key",
        "(e.g. one given in spec.cloudInit.sshAuthorizedKeys)."},
        footer = {"", "Host keys are kept in ~/.kubevmm/known_hosts; the first connection to a VM",
                "accepts its key. More: docs/access.md",
                "Examples:", "  kubevmm ssh debian@vm/deb -i ~/.ssh/id_ed25519",
                "  kubevmm ssh debian@vm/deb -i ~/.ssh/id_ed25519 -- cat /etc/os-release"})
final class SshCommand extends ClusterCommand {
    static final String LAUNCHER = "bin/kubevmm";

    @Parameters(index = "0", paramLabel = "[USER@]vm/NAME", description = "The VM, and the guest user to log in as.")
    String target;

    @Parameters(index = "1..*", paramLabel = "COMMAND", description = "A command to run in the guest instead of a login shell (after --).")
    List<String> command = new ArrayList<>();

    @Option(names = {"-i", "--identity"}, paramLabel = "KEY", description = "Private key file (ssh -i).")
    Path identity;

    @Option(names = {"-p", "--port"}, defaultValue = "22", paramLabel = "PORT", description = "The guest's sshd port (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = {"-o", "--ssh-option"}, paramLabel = "OPTION", description = "An option for ssh (ssh -o), e.g. -o ServerAliveInterval=30; repeatable.")
    List<String> sshOptions = new ArrayList<>();

    @Option(names = "--known-hosts", paramLabel = "FILE", description = "Known-hosts file (default: ~/.kubevmm/known_hosts).")
    Path knownHosts;

    @Override
    public Integer call() throws Exception {
        VmTarget vm = VmTarget.parse(target, true);
        if (port < 1 || port > 65535) {
            throw new CliException("--port " + port + ": the guest port must be 1-65535");
        }
        NodeAccess.VmNode at = NodeAccess.locate(objects(), env(), namespace(), vm.name());
        NodeAccess.requireReachable(at, vm.name());
        if (identity != null && !Files.isReadable(env().resolve(identity.toString()))) {
            throw new CliException("-i " + identity + ": no such readable key file");
        }
        Path hosts = knownHosts != null ? env().resolve(knownHosts.toString()) : env().home().resolve(".kubevmm").resolve("known_hosts");
        Files.createDirectories(hosts.getParent());
        Object uid = at.vm() != null ? JsonPath.read(at.vm(), ".metadata.uid") : JsonPath.read(at.vmi(), ".metadata.uid");
        List<String> cliOptions = root.kubeconfig == null ? List.of()
                : List.of("--kubeconfig", env().resolve(root.kubeconfig).toAbsolutePath().toString());
        SshCommandLine line = new SshCommandLine(self(env()), cliOptions, namespace(), vm.name(), uid == null ? null : uid.toString(),
                port, vm.user(), identity == null ? null : env().resolve(identity.toString()), hosts, sshOptions, command);
        return run(line.build());
    }

    /**
     * How to run this CLI again from ssh: bin/kubevmm when it launched us (it exports KUBEVMM_HOME),
     * else the same java with the same class path.
     */
    static List<String> self(Environment env) {
        var launcher = env.variable("KUBEVMM_HOME").map(home -> Path.of(home).resolve(LAUNCHER)).filter(Files::isExecutable);
        if (launcher.isPresent()) {
            return List.of(launcher.get().toAbsolutePath().toString());
        }
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        return List.of(java, "-cp", System.getProperty("java.class.path"), KubeVmm.class.getName());
    }

    private int run(List<String> ssh) throws IOException, InterruptedException {
        Process process;
        try {
            process = new ProcessBuilder(ssh).inheritIO().start();
        } catch (IOException e) {
            throw new CliException("cannot run ssh (" + ApiErrors.reason(e) + "); install an OpenSSH client (apt-get install openssh-client)");
        }
        try {
            return process.waitFor();
        } finally {
            process.destroy();
        }
    }

}
