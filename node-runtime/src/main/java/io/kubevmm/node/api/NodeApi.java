package io.kubevmm.node.api;

import io.kubevmm.node.config.NodeConfig;
import io.kubevmm.node.console.ConsoleLog;
import io.kubevmm.node.lifecycle.NodeVms;
import io.kubevmm.node.lifecycle.VmObservation;
import jakarta.ws.rs.DefaultValue;
import io.kubevmm.node.migration.TargetMigrations;
import io.kubevmm.node.transfer.tunnel.TunnelSecrets;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.Map;

/** The node runtime's HTTP API (bearer token required, see {@link BearerTokenFilter}). */
@Path("/api/v1")
public class NodeApi {
    private static final int MAX_FOLLOW_BYTES = 1 << 20;

    private final NodeVms vms;
    private final NodeConfig config;
    private final TargetMigrations targets;

    NodeApi(NodeVms vms, NodeConfig config, TargetMigrations targets) {
        this.vms = vms;
        this.config = config;
        this.targets = targets;
    }

    @GET
    @Path("/health")
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> health() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", "ok");
        body.put("node", config.name());
        body.put("accelerator", vms.engine().accelerator().apiName());
        body.put("qemuVersion", vms.engine().version());
        body.put("vms", vms.all().size());
        return body;
    }

    /**
     * The guest's serial console. Without {@code fromByte}: the last {@code lines} lines. With it:
     * everything after that byte offset (for following); header {@code X-Console-Offset} says where
     * to continue.
     */
    @GET
    @Path("/namespaces/{namespace}/vms/{name}/console")
    @Produces(MediaType.TEXT_PLAIN)
    public Response console(@PathParam("namespace") String namespace, @PathParam("name") String name,
                            @QueryParam("lines") @DefaultValue("100") int lines,
                            @QueryParam("fromByte") Long fromByte) throws IOException {
        RequestNames.requireObject("VM", namespace, name); // before any path is built from them
        java.nio.file.Path log = vms.find(namespace, name).map(r -> r.observe().consoleLog())
                .orElse(vms.stateDir(namespace, name).resolve("console.log"));
        if (!Files.exists(log)) {
            throw new NotFoundException("VM " + namespace + "/" + name + " has no console on node " + config.name());
        }
        long size = Files.size(log);
        String body;
        if (fromByte == null) {
            body = String.join("\n", ConsoleLog.tail(log, Math.min(lines, 10_000)));
            body = body.isEmpty() ? body : body + "\n";
        } else {
            long from = Math.max(0, Math.min(fromByte, size));
            int length = (int) Math.min(size - from, MAX_FOLLOW_BYTES);
            byte[] buf = new byte[length];
            try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "r")) {
                file.seek(from);
                file.readFully(buf);
            }
            body = new String(buf, StandardCharsets.UTF_8);
            size = from + length;
        }
        return Response.ok(body).header("X-Console-Offset", size).build();
    }

    /**
     * The tunnel secret this node (as migration target) made for one migration. Handed out once,
     * to the first caller with the node token: the source node runtime.
     */
    @POST
    @Path("/migrations/{uid}/tunnel-secret")
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> tunnelSecret(@PathParam("uid") String uid) {
        byte[] secret = targets.takeSecret(uid).orElseThrow(() -> new NotFoundException(
                "node " + config.name() + " holds no uncollected tunnel secret for migration " + uid));
        return Map.of("secret", TunnelSecrets.encode(secret));
    }

    /** Whether this node receives or runs a VM a migration sends here (asked by a source that restarted mid-way). */
    @GET
    @Path("/namespaces/{namespace}/vms/{name}/arrival")
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> arrival(@PathParam("namespace") String namespace, @PathParam("name") String name,
                                       @QueryParam("migration") String uid) {
        return targets.arrivalFacts(namespace, name, uid == null ? "" : uid);
    }

    /** What this node knows about one VM right now (for debugging; the VMI status is the API). */
    @GET
    @Path("/namespaces/{namespace}/vms/{name}")
    @Produces(MediaType.APPLICATION_JSON)
    public VmObservation vm(@PathParam("namespace") String namespace, @PathParam("name") String name) {
        RequestNames.requireObject("VM", namespace, name);
        return vms.find(namespace, name).map(r -> r.observe())
                .orElseThrow(() -> new NotFoundException("VM " + namespace + "/" + name + " is not on node " + config.name()));
    }
}
