package io.kubevmm.node.migration;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubevmm.api.status.StatusPatch;
import io.kubevmm.api.v1alpha1.MigrationNodeFacts;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VMMigrationStatus;
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

    /** Merges {@code facts} into this migration's {@code status.source}, the block only the source node writes. */
    static void reportSource(KubernetesClient client, VMMigration migration, MigrationNodeFacts facts) {
        VMMigrationStatus status = new VMMigrationStatus();
        status.setSource(facts);
        StatusPatch.status(client, migration, status);
    }

    /** Merges {@code facts} into this migration's {@code status.target}, the block only the target node writes. */
    static void reportTarget(KubernetesClient client, VMMigration migration, MigrationNodeFacts facts) {
        VMMigrationStatus status = new VMMigrationStatus();
        status.setTarget(facts);
        StatusPatch.status(client, migration, status);
    }

    /** A fact of {@code node} at this instant, with what it means in words. */
    static MigrationNodeFacts fact(String node, String message) {
        MigrationNodeFacts facts = new MigrationNodeFacts();
        facts.setNode(node);
        facts.setMessage(message);
        return facts;
    }

    /** A node's fact that it gave up: {@code cancelled} when it was a cancellation, not a failure. */
    static MigrationNodeFacts failure(String node, String reason, String message, boolean cancelled) {
        MigrationNodeFacts facts = fact(node, message);
        facts.setFailedTime(java.time.Instant.now().toString());
        facts.setFailureReason(reason);
        facts.setCancelled(cancelled ? Boolean.TRUE : null);
        return facts;
    }

    @Override
    public String toString() {
        return namespace + "/" + name;
    }
}
