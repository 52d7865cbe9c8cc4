package io.kubevmm.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A cluster network for VMs with {@code network.mode: overlay}: an IPv4 range the operator gives
 * addresses from and the VXLAN segment that carries it between nodes. Cluster-scoped.
 */
@Group(Labels.GROUP)
@Version(Labels.VERSION)
@ShortNames("vmnet")
@AdditionalPrinterColumn(name = "CIDR", jsonPath = ".spec.cidr", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "VNI", jsonPath = ".spec.vni", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Allocated", jsonPath = ".status.allocatedCount", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class VMNetwork extends CustomResource<VMNetworkSpec, VMNetworkStatus> {
}
