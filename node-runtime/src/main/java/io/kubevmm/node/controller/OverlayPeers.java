package io.kubevmm.node.controller;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.kubevmm.api.v1alpha1.OverlayAttachment;
import io.kubevmm.api.v1alpha1.VMNode;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.node.config.NodeConfig;
import io.kubevmm.node.network.Ipv4Cidr;
import io.kubevmm.node.network.OverlayNetworks;
import io.kubevmm.node.network.Remotes;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Tells this node's overlay data plane where the guests of the other nodes are: every VMI (all
 * namespaces) with an overlay attachment placed on another node puts its MAC behind that node's
 * underlay address (VMNode status.underlayAddress) on the segment's VXLAN device. The entries
 * follow a VMI's nodeName when it migrates and go when the VMI or its node goes. Fed by two
 * informers of its own (VMIs of every node, VMNodes); bursts of changes are folded into one update.
 */
@ApplicationScoped
public class OverlayPeers {
    private static final Logger LOG = Logger.getLogger(OverlayPeers.class);
    private static final long FOLD_MILLIS = 50;
    private static final long RETRY_MILLIS = 5000;

    private final KubernetesClient client;
    private final OverlayNetworks networks;
    private final String nodeName;
    private final List<String> overlayHosts;
    private final ScheduledExecutorService updates = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "overlay-peers");
        t.setDaemon(true);
        return t;
    });
    private final AtomicBoolean pending = new AtomicBoolean();
    private SharedIndexInformer<VirtualMachineInstance> vmis;
    private SharedIndexInformer<VMNode> nodes;

    OverlayPeers(KubernetesClient client, OverlayNetworks networks, NodeConfig config) {
        this.client = client;
        this.networks = networks;
        this.nodeName = config.name();
        this.overlayHosts = config.overlayHosts().orElse(List.of()).stream().map(String::strip).filter(h -> !h.isEmpty())
                .peek(h -> Ipv4Cidr.address("kubevmm.node.overlay-hosts", h)).toList();
    }

    void onStart(@Observes StartupEvent event) {
        vmis = client.resources(VirtualMachineInstance.class).inAnyNamespace().inform(handler(), 0);
        nodes = client.resources(VMNode.class).inform(handler(), 0);
    }

    void onStop(@Observes ShutdownEvent event) {
        if (vmis != null) {
            vmis.close();
        }
        if (nodes != null) {
            nodes.close();
        }
        updates.shutdownNow();
    }

    private <T> ResourceEventHandler<T> handler() {
        return new ResourceEventHandler<>() {
            @Override
            public void onAdd(T obj) { changed(); }

            @Override
            public void onUpdate(T oldObj, T newObj) { changed(); }

            @Override
            public void onDelete(T obj, boolean deletedFinalStateUnknown) { changed(); }
        };
    }

    private void changed() {
        if (pending.compareAndSet(false, true)) {
            updates.schedule(this::update, FOLD_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    private void update() {
        pending.set(false);
        try {
            networks.remotes(remotes(vmis.getStore().list(), nodes.getStore().list(), nodeName, overlayHosts));
        } catch (RuntimeException e) {
            LOG.warnf("cannot program the overlay forwarding entries: %s; trying again in %d s", e.getMessage(), RETRY_MILLIS / 1000);
            if (pending.compareAndSet(false, true)) {
                updates.schedule(this::update, RETRY_MILLIS, TimeUnit.MILLISECONDS);
            }
        }
    }

    /** Per vni, where the guests of nodes other than {@code self} are (guest MAC to node underlay address). */
    static Map<Integer, Remotes> remotes(Iterable<VirtualMachineInstance> vmis, Iterable<VMNode> nodes, String self) {
        return remotes(vmis, nodes, self, List.of());
    }

    /**
     * Per vni, where the guests of nodes other than {@code self} are (guest MAC to node underlay
     * address), and which underlay addresses get the segment's flooded frames: the other nodes
     * with guests on it, plus {@code hosts} (members that are no node) on every segment that has a guest.
     */
    static Map<Integer, Remotes> remotes(Iterable<VirtualMachineInstance> vmis, Iterable<VMNode> nodes, String self,
                                         List<String> hosts) {
        Map<String, String> underlay = new HashMap<>();
        for (VMNode node : nodes) {
            if (node.getStatus() != null && node.getStatus().getUnderlayAddress() != null) {
                underlay.put(node.getMetadata().getName(), node.getStatus().getUnderlayAddress());
            }
        }
        String own = underlay.get(self);
        Map<Integer, Map<String, String>> macs = new HashMap<>();
        Map<Integer, Set<String>> peers = new HashMap<>();
        for (VirtualMachineInstance vmi : vmis) {
            OverlayAttachment a = vmi.getSpec() == null ? null : vmi.getSpec().getOverlay();
            String node = vmi.getSpec() == null ? null : vmi.getSpec().getNodeName();
            if (a == null || a.getVni() == null || a.getMacAddress() == null || node == null) {
                continue;
            }
            if (!hosts.isEmpty()) {
                hosts.stream().filter(h -> !h.equals(own)).forEach(h -> peers.computeIfAbsent(a.getVni(), v -> new HashSet<>()).add(h));
                macs.computeIfAbsent(a.getVni(), v -> new HashMap<>());
            }
            if (node.equals(self)) {
                continue;
            }
            String address = underlay.get(node);
            if (address == null || address.equals(own)) {
                continue; // a node that has not reported its underlay yet, or one that shares ours (misconfigured)
            }
            macs.computeIfAbsent(a.getVni(), v -> new HashMap<>()).put(a.getMacAddress(), address);
            peers.computeIfAbsent(a.getVni(), v -> new HashSet<>()).add(address);
        }
        Map<Integer, Remotes> byVni = new HashMap<>();
        macs.forEach((vni, m) -> byVni.put(vni, new Remotes(m, peers.getOrDefault(vni, Set.of()))));
        return byVni;
    }
}
