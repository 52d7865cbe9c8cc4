package io.kubevmm.api.v1alpha1;

import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/** A node that runs VMs: one per node runtime, registered and kept fresh by it. Cluster-scoped. */
@Group(Labels.GROUP)
@Version(Labels.VERSION)
@ShortNames("vmnode")
public class VMNode extends CustomResource<VMNodeSpec, VMNodeStatus> {
}
