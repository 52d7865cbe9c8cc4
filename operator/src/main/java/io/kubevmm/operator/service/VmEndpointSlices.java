package io.kubevmm.operator.service;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPortBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.kubevmm.api.status.ConditionTypes;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.v1alpha1.NetworkMode;
import io.kubevmm.api.v1alpha1.VirtualMachine;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The EndpointSlices a Service needs for the VMs it selects: the VMs in its namespace whose
 * labels match its selector and that hold an overlay address (status.network.ipAddress), as
 * discovery.k8s.io/v1 endpoints, at most {@value #MAX_ENDPOINTS} per slice, as Kubernetes' own
 * controller cuts them. Labelled managed-by {@value #MANAGED_BY}, so Kubernetes' endpointslice
 * controller (which manages only its own) leaves them alone, and owned by the Service, so the
 * garbage collector deletes them with it. Pure.
 */
public final class VmEndpointSlices {
    public static final String SERVICE_NAME = "kubernetes.io/service-name";
    public static final String MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by";
    public static final String MANAGED_BY = "kubevmm.io";
    static final int MAX_ENDPOINTS = 100;

    private VmEndpointSlices() { }

    /** Whether the Service selects by labels at all (one without a selector has its endpoints managed by hand). */
    public static boolean selects(Service service) {
        return service.getSpec() != null && service.getSpec().getSelector() != null && !service.getSpec().getSelector().isEmpty();
    }

    /** Whether the Service's selector matches the VM's labels. */
    public static boolean selects(Service service, VirtualMachine vm) {
        if (!selects(service) || !service.getMetadata().getNamespace().equals(vm.getMetadata().getNamespace())) {
            return false;
        }
        Map<String, String> labels = vm.getMetadata().getLabels() == null ? Map.of() : vm.getMetadata().getLabels();
        return service.getSpec().getSelector().entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
    }

    /** A VM that can be an endpoint: on the overlay, with its address allocated. */
    static boolean addressable(VirtualMachine vm) {
        return vm.getSpec() != null && vm.getSpec().getNetwork() != null && vm.getSpec().getNetwork().getMode() == NetworkMode.overlay
                && vm.getStatus() != null && vm.getStatus().getNetwork() != null && vm.getStatus().getNetwork().getIpAddress() != null;
    }

    /** The name of the {@code index}th slice of the Service. */
    static String sliceName(Service service, int index) {
        return service.getMetadata().getName() + "-kubevmm" + (index == 0 ? "" : "-" + index);
    }

    /** The slices of {@code service} for {@code vms} (any VMs of its namespace; the matching ones are picked); none when no VM matches. */
    public static List<EndpointSlice> desired(Service service, List<VirtualMachine> vms) {
        List<Endpoint> endpoints = vms.stream()
                .filter(vm -> selects(service, vm) && addressable(vm))
                .sorted(Comparator.comparing(vm -> vm.getMetadata().getName()))
                .map(VmEndpointSlices::endpoint)
                .toList();
        List<EndpointPort> ports = ports(service);
        List<EndpointSlice> slices = new ArrayList<>();
        for (int from = 0, index = 0; from < endpoints.size(); from += MAX_ENDPOINTS, index++) {
            slices.add(slice(service, index, endpoints.subList(from, Math.min(endpoints.size(), from + MAX_ENDPOINTS)), ports));
        }
        return slices;
    }

    private static EndpointSlice slice(Service service, int index, List<Endpoint> endpoints, List<EndpointPort> ports) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(SERVICE_NAME, service.getMetadata().getName());
        labels.put(MANAGED_BY_LABEL, MANAGED_BY);
        return new EndpointSliceBuilder()
                .withNewMetadata()
                    .withName(sliceName(service, index))
                    .withNamespace(service.getMetadata().getNamespace())
                    .withLabels(labels)
                    .withOwnerReferences(new OwnerReferenceBuilder().withApiVersion("v1").withKind("Service")
                            .withName(service.getMetadata().getName()).withUid(service.getMetadata().getUid())
                            // Not blockOwnerDeletion: that would need update on services/finalizers where
                            // OwnerReferencesPermissionEnforcement is on, and a Service need not wait for its slices.
                            .withController(true).build())
                .endMetadata()
                .withAddressType("IPv4")
                .withEndpoints(new ArrayList<>(endpoints))
                .withPorts(new ArrayList<>(ports))
                .build();
    }

    private static Endpoint endpoint(VirtualMachine vm) {
        boolean ready = vm.getStatus() != null && Conditions.isTrue(vm.getStatus().getConditions(), ConditionTypes.READY);
        boolean terminating = vm.getMetadata().getDeletionTimestamp() != null;
        return new EndpointBuilder()
                .withAddresses(vm.getStatus().getNetwork().getIpAddress())
                .withNewConditions().withReady(ready && !terminating).withServing(ready).withTerminating(terminating).endConditions()
                .withNodeName(vm.getStatus().getNodeName())
                .withTargetRef(new ObjectReferenceBuilder().withApiVersion(vm.getApiVersion()).withKind(vm.getKind())
                        .withNamespace(vm.getMetadata().getNamespace()).withName(vm.getMetadata().getName())
                        .withUid(vm.getMetadata().getUid()).build())
                .build();
    }

    /**
     * The Service's ports as the VMs serve them: a numeric targetPort, or the port itself when
     * targetPort is unset or named (a name refers to a container port, which a VM does not have).
     */
    static List<EndpointPort> ports(Service service) {
        List<ServicePort> ports = service.getSpec().getPorts() == null ? List.of() : service.getSpec().getPorts();
        return ports.stream().map(p -> new EndpointPortBuilder()
                .withName(p.getName() == null ? "" : p.getName())
                .withProtocol(p.getProtocol() == null ? "TCP" : p.getProtocol())
                .withPort(target(p))
                .withAppProtocol(p.getAppProtocol())
                .build()).toList();
    }

    private static int target(ServicePort port) {
        IntOrString target = port.getTargetPort();
        return target != null && target.getIntVal() != null && target.getIntVal() > 0 ? target.getIntVal() : port.getPort();
    }
}
