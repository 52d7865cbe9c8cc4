package io.kubevmm.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.kubevmm.api.v1alpha1.VMNode;
import io.kubevmm.api.v1alpha1.VMNodeStatus;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

class ConsoleCommandTest extends MockClusterTest {
    private static final String TOKEN = "s3cret";

    private HttpServer nodeRuntime;
    private final StringBuffer serialLog = new StringBuffer("boot line\nKUBEVMM-GUEST-READY\ntick 1\ntick 2\n");
    private final List<String> queries = new CopyOnWriteArrayList<>();

    @BeforeEach
    void startNodeRuntime() throws IOException {
        nodeRuntime = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        nodeRuntime.createContext("/api/v1/namespaces/default/vms/demo/console", this::console);
        nodeRuntime.start();
    }

    @AfterEach
    void stopNodeRuntime() {
        nodeRuntime.stop(0);
    }

    /** The node runtime's console endpoint, as NodeApi serves it: bearer token, lines= or fromByte=. */
    private void console(HttpExchange exchange) throws IOException {
        if (!("Bearer " + TOKEN).equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
            exchange.sendResponseHeaders(401, -1);
            exchange.close();
            return;
        }
        Map<String, String> query = Arrays.stream(exchange.getRequestURI().getQuery().split("&"))
                .map(p -> p.split("=", 2)).collect(Collectors.toMap(p -> p[0], p -> p[1]));
        queries.add(exchange.getRequestURI().getQuery());
        byte[] log = serialLog.toString().getBytes(StandardCharsets.UTF_8);
        String body;
        if (query.containsKey("fromByte")) {
            body = new String(log, Integer.parseInt(query.get("fromByte")), log.length - Integer.parseInt(query.get("fromByte")),
                    StandardCharsets.UTF_8);
        } else {
            List<String> lines = serialLog.toString().lines().toList();
            int n = Integer.parseInt(query.get("lines"));
            body = String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size())) + "\n";
        }
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("X-Console-Offset", String.valueOf(log.length));
        exchange.sendResponseHeaders(200, bytes.length == 0 ? -1 : bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }

    @Test
    void consolePrintsTheLastLinesFromTheVmsNodeWithTheToken() {
        placeDemoOnNodeA();
        env.put("KUBEVMM_NODE_TOKEN", TOKEN);

        Run run = kubevmm("console", "demo", "--lines", "2");

        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out()).isEqualTo("tick 1\ntick 2\n");
    }

    @Test
    void followKeepsPrintingWhatTheGuestWritesNext() throws Exception {
        placeDemoOnNodeA();
        env.put("KUBEVMM_NODE_TOKEN", TOKEN);
        StringWriter out = new StringWriter();
        Thread follower = new Thread(() -> kubevmm(out, "console", "demo", "--follow", "--lines", "1"));
        follower.start();

        awaitOutput(out, "tick 2\n");
        serialLog.append("tick 3\n");
        awaitOutput(out, "tick 2\ntick 3\n");
        follower.interrupt();
        follower.join(5_000);

        assertThat(follower.isAlive()).isFalse();
        assertThat(queries).contains("lines=1").anyMatch(q -> q.startsWith("fromByte="));
    }

    @Test
    void theTokenIsReadFromTheLocalClustersFile() throws Exception {
        placeDemoOnNodeA();
        Files.createDirectories(workDir.resolve(".kubevmm"));
        Files.writeString(workDir.resolve(".kubevmm/node-token"), TOKEN + "\n");

        assertThat(kubevmm("console", "demo").out()).contains("KUBEVMM-GUEST-READY");
    }

    @Test
    void aWrongTokenIsReportedWithHowToSetIt() {
        placeDemoOnNodeA();
        env.put("KUBEVMM_NODE_TOKEN", "wrong");

        Run run = kubevmm("console", "demo");

        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).contains("the node runtime of node node-a refused the token (HTTP 401); set KUBEVMM_NODE_TOKEN");
    }

    @Test
    void noTokenAnywhereSaysHowToProvideOne() {
        placeDemoOnNodeA();

        Run run = kubevmm("console", "demo");

        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).contains("no node API token: set KUBEVMM_NODE_TOKEN", ".kubevmm/node-token");
    }

    @Test
    void aVmWithoutInstanceSaysToStartIt() {
        createVm("demo");
        env.put("KUBEVMM_NODE_TOKEN", TOKEN);

        Run run = kubevmm("console", "demo");

        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).contains("has no instance on any node", "kubevmm start demo");
    }

    private void placeDemoOnNodeA() {
        createVm("demo");
        VirtualMachineInstance vmi = new VirtualMachineInstance();
        vmi.getMetadata().setName("demo");
        vmi.getMetadata().setNamespace("default");
        var vmis = client.resources(VirtualMachineInstance.class).inNamespace("default");
        vmis.resource(vmi).create();
        VirtualMachineInstanceStatus status = new VirtualMachineInstanceStatus();
        status.setNodeName("node-a");
        vmi.setStatus(status);
        vmis.resource(vmi).updateStatus();

        VMNode node = new VMNode();
        node.getMetadata().setName("node-a");
        client.resources(VMNode.class).resource(node).create();
        VMNodeStatus nodeStatus = new VMNodeStatus();
        nodeStatus.setEndpoint("127.0.0.1:" + nodeRuntime.getAddress().getPort());
        node.setStatus(nodeStatus);
        client.resources(VMNode.class).resource(node).updateStatus();
    }

    private static void awaitOutput(StringWriter out, String expected) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 10_000;
        while (!out.toString().equals(expected) && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertThat(out.toString()).isEqualTo(expected);
    }
}
