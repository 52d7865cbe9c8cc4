package io.kubevmm.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The system {@code ssh} command {@code kubevmm ssh} runs: the connection goes through this CLI's
 * own {@code port-forward --stdio} as ProxyCommand, so no node or guest port is opened to anyone.
 * Host keys are kept in a known-hosts file of KubeVMM's, under an alias made from the VM's name,
 * namespace and uid: a VM deleted and created again under the same name is a new host (its
 * cloud-init makes new keys) and is not mistaken for an attack, while a changed key of the same VM is.
 *
 * @param self       how to run this CLI again (the launcher, or java with its class path)
 * @param cliOptions global options the ProxyCommand needs to find the same cluster (--kubeconfig)
 */
record SshCommandLine(List<String> self, List<String> cliOptions, String namespace, String vm, String uid, int guestPort,
                      String user, Path identity, Path knownHosts, List<String> sshOptions, List<String> command) {

    /** The name ssh knows the guest's host key by. */
    String hostKeyAlias() {
        return vm + "." + namespace + (uid == null || uid.isEmpty() ? "" : "." + uid) + ".kubevmm";
    }

    List<String> build() {
        List<String> proxy = new ArrayList<>(self);
        proxy.addAll(cliOptions);
        proxy.addAll(List.of("--namespace", namespace, "port-forward", "--stdio", "vm/" + vm, String.valueOf(guestPort)));
        List<String> ssh = new ArrayList<>(List.of("ssh",
                "-o", "ProxyCommand=" + proxyCommand(proxy),
                "-o", "HostKeyAlias=" + hostKeyAlias(),
                "-o", "UserKnownHostsFile=" + knownHosts,
                "-o", "StrictHostKeyChecking=accept-new"));
        if (identity != null) {
            ssh.addAll(List.of("-i", identity.toString()));
        }
        for (String option : sshOptions) {
            ssh.addAll(List.of("-o", option));
        }
        if (user != null) {
            ssh.addAll(List.of("-l", user));
        }
        ssh.add(vm + "." + namespace); // never resolved: the ProxyCommand is the connection
        if (!command.isEmpty()) {
            ssh.add("--");
            ssh.addAll(command);
        }
        return ssh;
    }

    /**
     * ssh runs its ProxyCommand with {@code /bin/sh -c "exec ..."} after expanding {@code %} tokens:
     * every word is single-quoted for the shell and every {@code %} doubled for ssh.
     */
    static String proxyCommand(List<String> words) {
        List<String> quoted = new ArrayList<>();
        for (String word : words) {
            quoted.add("'" + word.replace("'", "'\\''").replace("%", "%%") + "'");
        }
        return String.join(" ", quoted);
    }
}
