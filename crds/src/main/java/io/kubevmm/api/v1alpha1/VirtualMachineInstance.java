package io.kubevmm.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A VM placed on one node: created by the operator from a VirtualMachine (same name, owned by
 * it, labelled kubevmm.io/node), run by that node's runtime.
 */
@Group(Labels.GROUP)
@Version(Labels.VERSION)
@ShortNames("vmi")
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Node", jsonPath = ".status.nodeName", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "PID", jsonPath = ".status.qemuPid", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Accel", jsonPath = ".status.accelerator", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Boot-ms", jsonPath = ".status.bootMillis", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class VirtualMachineInstance extends CustomResource<VirtualMachineInstanceSpec, VirtualMachineInstanceStatus> implements Namespaced {
}
