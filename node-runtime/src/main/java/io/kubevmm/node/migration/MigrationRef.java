package io.kubevmm.node.migration;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VMMigrationStatus.Phase;

/** One VMMigration as the node runtimes track it: by uid, looked up fresh when it matters. */
record MigrationRef(String namespace, String name, String uid, String vmName) {

    static MigrationRef of(VMMigration migration) {
        return new MigrationRef(migration.getMetadata().getNamespace(), migration.getMetadata().getName(),
                migration.getMetadata().getUid(), migration.getSpec().getVmName());
    }

    /** The object now, or null if it was deleted (or replaced by another of the same name). */
    VMMigration current(KubernetesClient client) {
        VMMigration now = client.resources(VMMigration.class).inNamespace(namespace).withName(name).get();
        return now != null && uid.equals(now.getMetadata().getUid()) ? now : null;
    }

    /** Why the migration should stop now, or null to go on: deleted, cancelled, or ended by the operator. */
    String stopReason(KubernetesClient client) {
        VMMigration now = current(client);
        if (now == null) {
            return "the VMMigration was deleted";
        }
        if (Boolean.TRUE.equals(now.getSpec().getCancel())) {
            return "spec.cancel is true";
        }
        Phase phase = now.getStatus() == null ? null : now.getStatus().getPhase();
        if (phase == Phase.Failed || phase == Phase.Cancelled) {
            return "the migration was marked " + phase + (now.getStatus().getFailureReason() == null ? ""
                    : ": " + now.getStatus().getFailureReason());
        }
        return null;
    }

    @Override
    public String toString() {
        return namespace + "/" + name;
    }
}
