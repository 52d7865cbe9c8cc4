package io.kubevmm.node.lifecycle;

import io.kubevmm.node.config.NodeConfig;
import io.kubevmm.node.console.ReadinessWatcher;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.metrics.TestMetrics;
import io.kubevmm.node.testing.TestGuest;

import java.lang.reflect.Proxy;
import java.nio.file.Path;

/** A node's VMs ({@link NodeVms}) on the test engine, with a state dir of the test's own. */
final class TestNodes {
    private TestNodes() { }

    static NodeVms vms(String nodeName, Path stateDir, ReadinessWatcher readiness) {
        NodeConfig config = (NodeConfig) Proxy.newProxyInstance(NodeConfig.class.getClassLoader(), new Class<?>[] {NodeConfig.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "name" -> nodeName;
                    case "stateDir" -> stateDir;
                    case "toString" -> "NodeConfig[" + nodeName + "]";
                    default -> throw new UnsupportedOperationException(method.getName() + " is not set for this test node");
                });
        return new NodeVms(TestGuest.engine(), readiness, TestMetrics.inMemory(), config);
    }

    /** The test guest as the VM {@code namespace/name} of {@code vms}: its state dir is the node's. */
    static VmConfig guest(NodeVms vms, String namespace, String name, String workload) {
        VmConfig base = TestGuest.microvm(vms.stateDir(namespace, name).getParent(), name, workload);
        return new VmConfig(NodeVms.id(namespace, name), vms.stateDir(namespace, name), base.profile(), base.cpus(),
                base.memoryBytes(), base.kernel(), base.initrd(), base.cmdline(), base.disks(), base.network(), base.macAddress());
    }
}
