package io.kubevmm.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/** A live migration of one VM between nodes; delete it (or set spec.cancel) to cancel. */
@Group(Labels.GROUP)
@Version(Labels.VERSION)
@ShortNames("vmmig")
@AdditionalPrinterColumn(name = "VM", jsonPath = ".spec.vmName", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Source", jsonPath = ".status.sourceNode", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Target", jsonPath = ".status.targetNode", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Downtime-ms", jsonPath = ".status.downtimeMillis", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Total-ms", jsonPath = ".status.totalTimeMillis", type = AdditionalPrinterColumn.Type.INTEGER)
public class VMMigration extends CustomResource<VMMigrationSpec, VMMigrationStatus> implements Namespaced {
}
