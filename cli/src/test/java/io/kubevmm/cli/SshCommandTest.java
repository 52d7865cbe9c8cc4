package io.kubevmm.cli;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code kubevmm ssh}: the ssh command line it runs. */
class SshCommandTest extends MockClusterTest {

    @Test
    void sshGoesThroughPortForwardStdioAndKeepsHostKeysUnderTheVmsIdentity() {
        SshCommandLine line = new SshCommandLine(List.of("/opt/kubevmm/bin/kubevmm"), List.of("--kubeconfig", "/k/config"),
                "default", "deb", "6f1c", 22, "debian", Path.of("/keys/id_ed25519"), Path.of("/home/u/.kubevmm/known_hosts"),
                List.of("ServerAliveInterval=30"), List.of("cat", "/etc/os-release"));

        assertThat(line.build()).containsExactly("ssh",
                "-o", "ProxyCommand='/opt/kubevmm/bin/kubevmm' '--kubeconfig' '/k/config' '--namespace' 'default' 'port-forward'"
                        + " '--stdio' 'vm/deb' '22'",
                "-o", "HostKeyAlias=deb.default.6f1c.kubevmm",
                "-o", "UserKnownHostsFile=/home/u/.kubevmm/known_hosts",
                "-o", "StrictHostKeyChecking=accept-new",
                "-i", "/keys/id_ed25519",
                "-o", "ServerAliveInterval=30",
                "-l", "debian",
                "deb.default",
                "--", "cat", "/etc/os-release");
    }

    @Test
    void withoutUserKeyOrCommandSshGetsNoneOfThem() {
        SshCommandLine line = new SshCommandLine(List.of("kubevmm"), List.of(), "ns1", "web", null, 2222, null, null,
                Path.of("/kh"), List.of(), List.of());
        List<String> ssh = line.build();
        assertThat(ssh).doesNotContain("-i", "-l", "--").endsWith("web.ns1");
        assertThat(ssh.get(2)).endsWith("'--namespace' 'ns1' 'port-forward' '--stdio' 'vm/web' '2222'");
        assertThat(line.hostKeyAlias()).isEqualTo("web.ns1.kubevmm");
    }

    @Test
    void theProxyCommandSurvivesSshsPercentExpansionAndTheShellWithAnyPath() throws Exception {
        List<String> words = List.of("printf", "<%s>\\n", "/path with spaces/it's here", "100%", "$HOME", "a;b");
        String proxy = SshCommandLine.proxyCommand(words);
        // What ssh does with it: %% becomes %, then /bin/sh -c "exec <command>".
        Process sh = new ProcessBuilder("/bin/sh", "-c", "exec " + proxy.replace("%%", "%")).redirectErrorStream(true).start();
        String printed = new String(sh.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(sh.waitFor()).isZero();
        assertThat(printed).isEqualTo("</path with spaces/it's here>\n<100%>\n<$HOME>\n<a;b>\n");
    }

    @Test
    void theProxyCommandRunsTheLauncherThatStartedTheCli() throws Exception {
        Path home = workDir.resolve("repo");
        Path launcher = home.resolve(SshCommand.LAUNCHER);
        Files.createDirectories(launcher.getParent());
        Files.writeString(launcher, "#!/bin/sh\n");
        Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertThat(SshCommand.self(new Environment(Map.of("KUBEVMM_HOME", home.toString()), workDir, workDir, null)))
                .containsExactly(launcher.toString());

        List<String> java = SshCommand.self(new Environment(Map.of(), workDir, workDir, null));
        assertThat(java).hasSize(4).endsWith(KubeVmm.class.getName());
        assertThat(java.get(1)).isEqualTo("-cp");
    }

    @Test
    void sshNeedsTheVm() {
        Run run = kubevmm("ssh", "debian@vm/nosuch", "--", "true");
        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).contains("nosuch").contains("not found");
    }
}
