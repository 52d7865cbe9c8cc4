package io.kubevmm.node.testing;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceStatus;

import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

import static org.awaitility.Awaitility.await;

/** The VMIs of a node test in namespace default, read and awaited through the test's API server. */
public final class TestVmis {
    private final KubernetesClient client;
    private final Duration deleteTimeout;

    public TestVmis(KubernetesClient client, Duration deleteTimeout) {
        this.client = client;
        this.deleteTimeout = deleteTimeout;
    }

    public VirtualMachineInstance get(String name) {
        return client.resources(VirtualMachineInstance.class).inNamespace("default").withName(name).get();
    }

    /** Waits until the VMI has a status {@code until} accepts, and returns that status. */
    public VirtualMachineInstanceStatus awaitStatus(String name, Duration atMost, Predicate<VirtualMachineInstanceStatus> until) {
        await().atMost(atMost).pollInterval(Duration.ofMillis(200)).until(() -> {
            VirtualMachineInstance vmi = get(name);
            return vmi != null && vmi.getStatus() != null && until.test(vmi.getStatus());
        });
        return get(name).getStatus();
    }

    /** Phase Running and condition Ready=True. */
    public VirtualMachineInstanceStatus awaitReady(String name, Duration atMost) {
        return awaitStatus(name, atMost, s -> s.getPhase() == InstancePhase.Running && ready(s));
    }

    public static boolean ready(VirtualMachineInstanceStatus status) {
        return status.getConditions() != null && status.getConditions().stream()
                .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    /** Deletes the VMIs and waits until the node runtime has let them go (their finalizer removed). */
    public void delete(String... names) {
        for (String name : names) {
            client.resources(VirtualMachineInstance.class).inNamespace("default").withName(name).delete();
        }
        await().atMost(deleteTimeout).until(() -> List.of(names).stream().allMatch(n -> get(n) == null));
    }

    public List<Event> events(String name) {
        return client.v1().events().inNamespace("default").list().getItems().stream()
                .filter(e -> name.equals(e.getInvolvedObject().getName())).toList();
    }
}
