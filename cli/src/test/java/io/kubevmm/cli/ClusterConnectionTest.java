package io.kubevmm.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ClusterConnectionTest {
    @TempDir
    Path dir;

    @Test
    void kubeconfigComesFromTheOptionThenKubeconfigVariableThenLocalClusterThenHome() throws Exception {
        Path home = Files.createDirectories(dir.resolve("home"));
        Path checkout = Files.createDirectories(dir.resolve("repo/examples"));
        Path local = write(dir.resolve("repo/.kubevmm/kubeconfig"));
        Path homeConfig = write(home.resolve(".kube/config"));
        Path variable = write(dir.resolve("from-env"));
        Path option = write(dir.resolve("from-option"));
        Map<String, String> vars = new HashMap<>();
        Environment env = new Environment(vars, checkout, home, null);

        assertThat(ClusterConnection.locateKubeconfig(null, env)).as("local cluster found from a subfolder").contains(local);
        vars.put("KUBECONFIG", "/nonexistent:" + variable);
        assertThat(ClusterConnection.locateKubeconfig(null, env)).contains(variable);
        assertThat(ClusterConnection.locateKubeconfig(option.toString(), env)).contains(option);
        vars.clear();
        Files.delete(local);
        assertThat(ClusterConnection.locateKubeconfig(null, env)).contains(homeConfig);
    }

    @Test
    void theLocalClusterIsFoundThroughKubevmmHomeFromAnywhere() throws Exception {
        Path local = write(dir.resolve("repo/.kubevmm/kubeconfig"));
        Environment env = new Environment(Map.of("KUBEVMM_HOME", dir.resolve("repo").toString()),
                Files.createDirectories(dir.resolve("elsewhere")), dir, null);

        assertThat(ClusterConnection.locateKubeconfig(null, env)).contains(local);
    }

    @Test
    void aMissingKubeconfigOptionIsAnError() {
        Environment env = new Environment(Map.of(), dir, dir, null);

        assertThatThrownBy(() -> ClusterConnection.locateKubeconfig("nope", env)).hasMessage("--kubeconfig nope: no such file");
    }

    @Test
    void noReachableClusterSaysHowToStartTheLocalOne() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        Files.createDirectories(dir.resolve(".kubevmm"));
        Files.writeString(dir.resolve(".kubevmm/kubeconfig"), """
                apiVersion: v1
                kind: Config
                clusters: [{name: local, cluster: {server: "http://127.0.0.1:%d"}}]
                contexts: [{name: local, context: {cluster: local, user: me}}]
                current-context: local
                users: [{name: me, user: {token: t}}]
                """.formatted(closedPort));
        StringWriter err = new StringWriter();
        var cmd = KubeVmm.commandLine(new KubeVmm(new Environment(Map.of(), dir, dir, null)));
        cmd.setErr(new PrintWriter(err, true));
        cmd.setOut(new PrintWriter(new StringWriter(), true));

        int code = cmd.execute("get", "vm");

        assertThat(code).isEqualTo(1);
        assertThat(err.toString()).isEqualTo("error: cannot reach the Kubernetes API at http://127.0.0.1:" + closedPort
                + "/ (connection refused). Start the local cluster with: bin/kubevmm local up\n");
    }

    @Test
    void noKubeconfigAtAllSaysHowToStartTheLocalCluster() {
        Environment env = new Environment(Map.of(), dir, dir, null);

        assertThatThrownBy(() -> ClusterConnection.connect(null, env))
                .hasMessageContaining("no cluster configured").hasMessageEndingWith("Start the local cluster with: bin/kubevmm local up");
    }

    private static Path write(Path path) throws Exception {
        Files.createDirectories(path.getParent());
        return Files.writeString(path, "apiVersion: v1\nkind: Config\n");
    }
}
