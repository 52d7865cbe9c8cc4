package io.kubevmm.node.controller;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.kubevmm.api.v1alpha1.Labels;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.node.config.NodeConfig;
import io.kubevmm.node.lifecycle.NodeVms;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.util.Set;
import java.util.stream.Collectors;

/**
 * At start, stops emulators whose VMI no longer exists (deleted while this runtime was down and
 * its finalizer forced away): no QEMU may run a VM nobody can see.
 */
@ApplicationScoped
public class StrayVmReaper {
    private static final Logger LOG = Logger.getLogger(StrayVmReaper.class);

    void onStart(@Observes StartupEvent event, KubernetesClient client, NodeVms vms, NodeConfig config) {
        Set<String> known;
        try {
            known = client.resources(VirtualMachineInstance.class).inAnyNamespace()
                    .withLabel(Labels.NODE, config.name()).list().getItems().stream()
                    .map(vmi -> NodeVms.id(vmi.getMetadata().getNamespace(), vmi.getMetadata().getName()))
                    .collect(Collectors.toSet());
        } catch (KubernetesClientException e) {
            LOG.warnf("cannot list VMIs to find stray VMs (%s); leaving state dirs alone", e.getMessage());
            return;
        }
        for (var dir : vms.strayStateDirs(known)) {
            LOG.warnf("no VMI for %s: stopping its QEMU and removing the dir", dir);
            vms.reap(dir);
        }
    }
}
