package io.kubevmm.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/** Restores a VMSnapshot, rolling a VM back or cloning it. */
@Group(Labels.GROUP)
@Version(Labels.VERSION)
@ShortNames("vmrestore")
@AdditionalPrinterColumn(name = "Snapshot", jsonPath = ".spec.snapshotName", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Target-VM", jsonPath = ".spec.targetVmName", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Duration-ms", jsonPath = ".status.durationMillis", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class VMRestore extends CustomResource<VMRestoreSpec, VMRestoreStatus> implements Namespaced {
}
