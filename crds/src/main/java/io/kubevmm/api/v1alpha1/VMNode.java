package io.kubevmm.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/** A node that runs VMs: one per node runtime, registered and kept fresh by it. Cluster-scoped. */
@Group(Labels.GROUP)
@Version(Labels.VERSION)
@ShortNames("vmnode")
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.conditions[?(@.type==\"Ready\")].status", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Accel", jsonPath = ".status.accelerator", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "VMs", jsonPath = ".status.vmCount", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "CPU", jsonPath = ".status.capacity.cpu", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Memory", jsonPath = ".status.capacity.memory", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class VMNode extends CustomResource<VMNodeSpec, VMNodeStatus> {
}
