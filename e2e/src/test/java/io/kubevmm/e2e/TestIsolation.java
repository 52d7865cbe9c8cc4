package io.kubevmm.e2e;

import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;

/**
 * Each system test leaves the cluster as it found it: after a test no VirtualMachine or
 * VirtualMachineInstance, no QEMU of the cluster and no VM state dir may remain. Removal is
 * asynchronous (a node runtime stops QEMU and removes the dir after the VM is deleted), so the
 * check waits a bounded time for it to settle. Whatever is still there fails that test, naming
 * it, and is removed, so the next test starts clean and a failure stays with the test that
 * caused it.
 */
final class TestIsolation implements AfterEachCallback {
    private static final Duration SETTLE = Duration.ofSeconds(30);
    private static final Duration CLEANUP = Duration.ofMinutes(2);

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        if (!(context.getTestInstance().orElse(null) instanceof ClusterTestBase test) || test.cluster == null) {
            return; // against an external cluster other objects may be there
        }
        List<String> left = awaitNothingLeft(test, SETTLE);
        if (left.isEmpty()) {
            return;
        }
        for (VirtualMachine vm : test.client.resources(VirtualMachine.class).inAnyNamespace().list().getItems()) {
            test.client.resource(vm).delete();
        }
        List<String> stillThere = awaitNothingLeft(test, CLEANUP);
        if (!stillThere.isEmpty()) {
            test.cluster.qemus().stopAll(5);
        }
        throw new AssertionError("the test left behind " + String.join(", ", left)
                + (stillThere.isEmpty() ? " (removed now by deleting its VMs)"
                : "; deleting its VMs did not remove " + String.join(", ", stillThere) + " (its QEMUs were killed)"));
    }

    private static List<String> awaitNothingLeft(ClusterTestBase test, Duration timeout) throws IOException {
        try {
            return await().atMost(timeout).pollInterval(Duration.ofMillis(250)).until(() -> leftovers(test), List::isEmpty);
        } catch (ConditionTimeoutException e) {
            return leftovers(test);
        }
    }

    private static List<String> leftovers(ClusterTestBase test) throws IOException {
        List<String> left = new ArrayList<>();
        test.client.resources(VirtualMachine.class).inAnyNamespace().list().getItems()
                .forEach(vm -> left.add("vm/" + vm.getMetadata().getName()));
        test.client.resources(VirtualMachineInstance.class).inAnyNamespace().list().getItems()
                .forEach(vmi -> left.add("vmi/" + vmi.getMetadata().getName()));
        test.cluster.qemus().running().forEach(q -> left.add(q.toString()));
        Path nodes = test.cluster.home().nodesDir();
        if (Files.isDirectory(nodes)) {
            try (Stream<Path> nodeDirs = Files.list(nodes)) {
                for (Path vms : nodeDirs.map(n -> n.resolve("vms")).filter(Files::isDirectory).toList()) {
                    try (Stream<Path> dirs = Files.list(vms)) {
                        dirs.forEach(d -> left.add("state dir " + nodes.relativize(d)));
                    }
                }
            }
        }
        return left;
    }
}
