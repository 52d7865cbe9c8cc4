package io.kubevmm.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * How the CLI reaches the node runtime that runs a VM: its VMI → the node it is on → that VMNode's
 * {@code status.endpoint}, plus the node API token. Each step says what is missing and what to do.
 */
final class NodeAccess {
    static final String TOKEN_VARIABLE = "KUBEVMM_NODE_TOKEN";

    /** A VM's node runtime: the node's name, its API endpoint (host:port or a URL) and the token. */
    record VmNode(String node, String endpoint, String token, Map<String, Object> vm, Map<String, Object> vmi) { }

    private NodeAccess() { }

    static VmNode locate(ClusterObjects objects, Environment env, String namespace, String name) {
        Map<String, Object> vm = objects.find(Kind.VM, namespace, name).map(ClusterObjects::tree).orElse(null);
        Map<String, Object> vmi = objects.find(Kind.VMI, namespace, name).map(ClusterObjects::tree).orElse(null);
        if (vmi == null) {
            if (vm == null) {
                throw ClusterObjects.notFound(Kind.VM, namespace, name);
            }
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
        return new VmNode(node, endpoint, token(env), vm, vmi);
    }

    /** Refuses before ssh starts, with what to do, when the guest cannot be reached at all. */
    static void requireReachable(NodeAccess.VmNode at, String name) {
        String mode = JsonPath.string(at.vmi(), ".spec.network.mode");
        if (mode == null || "none".equals(mode)) {
            throw new CliException("virtualmachine \"" + name + "\" has spec.network.mode " + (mode == null ? "none (the default)" : mode)
                    + ": its guest has no network to reach; set spec.network.mode: user and restart it");
        }
        String phase = JsonPath.string(at.vmi(), ".status.phase");
        if (!"Running".equals(phase)) {
            throw new CliException("virtualmachine \"" + name + "\" is not running (phase " + phase + "); start it with: kubevmm start " + name);
        }
    }

    /** The node API token: $KUBEVMM_NODE_TOKEN, else the local cluster's .kubevmm/node-token. */
    static String token(Environment env) {
        var fromEnv = env.variable(TOKEN_VARIABLE);
        if (fromEnv.isPresent()) {
            return fromEnv.get().strip();
        }
        Path file = env.localClusterFile("node-token").orElseThrow(() -> new CliException(
                "no node API token: set " + TOKEN_VARIABLE + " to the token the node runtimes were started with, or run from"
                        + " the directory of a local cluster (bin/kubevmm local up writes .kubevmm/node-token)"));
        try {
            return Files.readString(file).strip();
        } catch (IOException e) {
            throw new CliException("cannot read the node API token from " + file + " (" + ApiErrors.reason(e) + ")");
        }
    }

    /** The node API's base URL: the endpoint as given when it is one, else plain HTTP to host:port. */
    static String baseUrl(String endpoint) {
        return endpoint.startsWith("http://") || endpoint.startsWith("https://") ? endpoint : "http://" + endpoint;
    }
}
