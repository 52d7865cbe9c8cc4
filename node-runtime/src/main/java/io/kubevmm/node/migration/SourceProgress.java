package io.kubevmm.node.migration;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.kubevmm.api.v1alpha1.MigrationNodeFacts;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.node.engine.MigrationSample;
import io.kubevmm.node.events.EventRecorder;
import org.jboss.logging.Logger;

import java.time.Instant;

/**
 * The source's facts while it sends, into {@code status.source}: the start, then progress figures
 * at most once a second (and at once when the guest switches to post-copy, a fact the operator
 * turns into a phase); the policy's decisions go out as Events.
 */
final class SourceProgress implements OutgoingRun.Progress {
    private static final Logger LOG = Logger.getLogger(SourceProgress.class);
    private static final long PROGRESS_EVERY_NANOS = 1_000_000_000L;

    private final KubernetesClient client;
    private final EventRecorder events;
    private final String node;
    private final VMMigration migration;
    private long lastWrite;
    private boolean wasPostCopy;

    SourceProgress(KubernetesClient client, EventRecorder events, String node, VMMigration migration) {
        this.client = client;
        this.events = events;
        this.node = node;
        this.migration = migration;
    }

    @Override
    public void transferStarted() {
        var facts = MigrationRef.fact(node, "sending VM " + migration.getSpec().getVmName() + " to "
                + migration.getStatus().getTargetNode());
        facts.setStartTime(Instant.now().toString());
        MigrationRef.reportSource(client, migration, facts);
    }

    @Override
    public void sample(MigrationSample sample, boolean postCopy) {
        boolean switched = postCopy && !wasPostCopy;
        wasPostCopy = postCopy;
        if (!switched && System.nanoTime() - lastWrite < PROGRESS_EVERY_NANOS) {
            return;
        }
        lastWrite = System.nanoTime();
        var facts = new MigrationNodeFacts();
        String now = Instant.now().toString();
        facts.setSampleTime(now);
        if (switched) {
            facts.setPostCopyTime(now);
        }
        facts.setIterations(sample.iterations());
        facts.setTransferredBytes(sample.transferredBytes());
        facts.setRemainingBytes(sample.remainingBytes());
        facts.setDirtyRateBytesPerSecond(sample.dirtyRateBytesPerSecond());
        facts.setThrottlePercent(sample.throttlePercent());
        try {
            MigrationRef.reportSource(client, migration, facts);
        } catch (KubernetesClientException e) {
            if (switched) {
                wasPostCopy = false; // the switch is a fact the operator needs: report it with the next sample
            }
            LOG.debugf("progress of %s not written: %s", migration.getMetadata().getName(), e.getMessage());
        }
    }

    @Override
    public void decision(String reason, String what) {
        events.normal(migration, what, reason);
    }
}
