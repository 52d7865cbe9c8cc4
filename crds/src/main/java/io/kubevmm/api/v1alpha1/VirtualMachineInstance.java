package io.kubevmm.api.v1alpha1;

import io.fabric8.crd.generator.annotation.PrinterColumn;
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
public class VirtualMachineInstance extends CustomResource<VirtualMachineInstanceSpec, VirtualMachineInstanceStatus> implements Namespaced {
}
