package io.kubevmm.operator.service;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.kubevmm.api.status.EventWriter;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Lets a Kubernetes Service front VMs as it fronts pods: for every Service with a selector,
 * the EndpointSlices of {@link VmEndpointSlices#desired} (the overlay addresses of the VMs whose
 * labels match), kept up to date as VMs come and go, change labels, readiness or address. Pod
 * endpoints stay with Kubernetes' own controller in its own slices; a Service selecting no VM
 * gets no slice from here. No finalizer on Services: the slices are owned by their Service.
 */
@ControllerConfiguration(name = ServiceEndpointsReconciler.NAME, generationAwareEventProcessing = false)
public class ServiceEndpointsReconciler implements Reconciler<Service> {
    static final String NAME = "service-endpoints";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final KubernetesClient client;
    private final EventWriter events;
    private InformerEventSource<VirtualMachine, Service> vms;
    private InformerEventSource<EndpointSlice, Service> slices;

    ServiceEndpointsReconciler(KubernetesClient client,
                               @ConfigProperty(name = "kubevmm.operator.instance", defaultValue = "kubevmm-operator") String instance) {
        this.client = client;
        this.events = new EventWriter(client, "kubevmm-operator", instance);
    }

    @Override
    public List<EventSource<?, Service>> prepareEventSources(EventSourceContext<Service> context) {
        // A VM's change concerns every Service of its namespace that selects: the ones matching its
        // labels now and the ones that matched before a label change.
        vms = new InformerEventSource<>(InformerEventSourceConfiguration.from(VirtualMachine.class, Service.class)
                .withSecondaryToPrimaryMapper(vm -> context.getPrimaryCache()
                        .list(vm.getMetadata().getNamespace(), VmEndpointSlices::selects)
                        .map(ResourceID::fromResource).collect(Collectors.toSet()))
                .build(), context);
        // Only the slices published here; an edit or deletion by someone else is set right.
        slices = new InformerEventSource<>(InformerEventSourceConfiguration.from(EndpointSlice.class, Service.class)
                .withLabelSelector(VmEndpointSlices.MANAGED_BY_LABEL + "=" + VmEndpointSlices.MANAGED_BY)
                .withSecondaryToPrimaryMapper(slice -> slice.getMetadata().getLabels() == null
                        || slice.getMetadata().getLabels().get(VmEndpointSlices.SERVICE_NAME) == null ? Set.of()
                        : Set.of(new ResourceID(slice.getMetadata().getLabels().get(VmEndpointSlices.SERVICE_NAME),
                                slice.getMetadata().getNamespace())))
                .build(), context);
        return List.of(vms, slices);
    }

    @Override
    public UpdateControl<Service> reconcile(Service service, Context<Service> context) {
        String namespace = service.getMetadata().getNamespace();
        String name = service.getMetadata().getName();
        List<EndpointSlice> desired = VmEndpointSlices.selects(service)
                ? VmEndpointSlices.desired(service, vms.list(namespace, vm -> VmEndpointSlices.selects(service, vm)).toList())
                : List.of();
        Map<String, EndpointSlice> existing = slices.list(namespace,
                        s -> name.equals(s.getMetadata().getLabels().get(VmEndpointSlices.SERVICE_NAME)))
                .collect(Collectors.toMap(s -> s.getMetadata().getName(), s -> s));

        boolean changed = false;
        for (EndpointSlice want : desired) {
            EndpointSlice have = existing.remove(want.getMetadata().getName());
            if (have == null) {
                client.resource(want).create();
                changed = true;
            } else if (!same(have, want)) {
                want.getMetadata().setResourceVersion(have.getMetadata().getResourceVersion());
                client.resource(want).update(); // a 409 (someone else wrote it) fails the reconcile, which is retried
                changed = true;
            }
        }
        for (EndpointSlice surplus : existing.values()) {
            try {
                client.resource(surplus).delete();
            } catch (KubernetesClientException e) {
                if (e.getCode() != 404) {
                    throw e;
                }
            }
            changed = true;
        }
        if (changed) {
            List<String> addresses = desired.stream().flatMap(s -> s.getEndpoints().stream())
                    .map(e -> e.getAddresses().getFirst() + (Boolean.TRUE.equals(e.getConditions().getReady()) ? "" : " (not ready)"))
                    .toList();
            events.normal(service, "VMEndpoints", addresses.isEmpty()
                    ? "no VM selected any more: its VM EndpointSlices are deleted"
                    : "VM endpoints: " + String.join(", ", addresses.subList(0, Math.min(10, addresses.size())))
                            + (addresses.size() > 10 ? " and " + (addresses.size() - 10) + " more" : ""));
        }
        return UpdateControl.noUpdate();
    }

    private static boolean same(EndpointSlice have, EndpointSlice want) {
        Map<String, String> labels = have.getMetadata().getLabels();
        return JSON.valueToTree(have.getEndpoints()).equals(JSON.valueToTree(want.getEndpoints()))
                && JSON.valueToTree(have.getPorts()).equals(JSON.valueToTree(want.getPorts()))
                && Objects.equals(have.getAddressType(), want.getAddressType())
                && labels != null && labels.entrySet().containsAll(want.getMetadata().getLabels().entrySet())
                && JSON.valueToTree(have.getMetadata().getOwnerReferences()).equals(JSON.valueToTree(want.getMetadata().getOwnerReferences()));
    }
}
