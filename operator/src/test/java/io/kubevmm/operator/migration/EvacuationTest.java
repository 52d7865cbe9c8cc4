package io.kubevmm.operator.migration;

import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.kubevmm.api.v1alpha1.EvacuationStatus;
import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VMMigrationSpec;
import io.kubevmm.api.v1alpha1.VMMigrationStatus;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceStatus;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The evacuation's next step, pure, over the VMs on the node and the migrations it made so far. */
class EvacuationTest {
    private static final Instant NOW = Instant.parse("2026-12-03T10:00:00Z");

    @Test
    void runningVmsMigrateStoppedOnesAreRescheduledAndOneOnItsWayIsLeftAlone() {
        var web = vmi("web", InstancePhase.Running, false);
        var idle = vmi("idle", InstancePhase.Stopped, false);
        var db = vmi("db", InstancePhase.Running, false);
        var dbMoving = migration("db", null);

        var plan = Evacuation.next("node-a", null, "g2", NOW.toString(), List.of(web, idle, db), List.of(dbMoving), List.of(dbMoving), NOW);

        assertThat(plan.actions()).containsExactly(new Evacuation.Action.Migrate("default", "web", 1), new Evacuation.Action.Reschedule(idle));
        assertThat(plan.status().getPhase()).isEqualTo(EvacuationStatus.Phase.InProgress);
        assertThat(plan.status().getRemaining()).isEqualTo(3);
        assertThat(plan.status().getRescheduled()).isEqualTo(1);
        assertThat(plan.status().getId()).isEqualTo("g2");
    }

    @Test
    void threeFailedMigrationsOrASuspendToDiskBlockTheEvacuationNamingTheVm() {
        var web = vmi("web", InstancePhase.Running, false);
        var saved = vmi("saved", InstancePhase.Suspended, true);
        var failed = List.of(migration("web", VMMigrationStatus.Phase.Failed), migration("web", VMMigrationStatus.Phase.Failed),
                migration("web", VMMigrationStatus.Phase.Failed));

        var plan = Evacuation.next("node-a", null, "g2", NOW.toString(), List.of(web, saved), failed, failed, NOW);

        assertThat(plan.actions()).isEmpty();
        assertThat(plan.status().getPhase()).isEqualTo(EvacuationStatus.Phase.Blocked);
        assertThat(plan.status().getFailed()).isEqualTo(3);
        assertThat(plan.status().getMessage()).contains("default/web: 3 migrations failed").contains("default/saved: suspended to disk");
    }

    @Test
    void anEmptyNodeWhoseMigrationsAreStillFinishingIsNotCompletedYet() {
        var finishing = List.of(migration("web", VMMigrationStatus.Phase.Running), migration("db", VMMigrationStatus.Phase.Succeeded));
        var plan = Evacuation.next("node-a", null, "g2", NOW.toString(), List.of(), finishing, finishing, NOW);

        assertThat(plan.status().getPhase()).isEqualTo(EvacuationStatus.Phase.InProgress);
        assertThat(plan.status().getRemaining()).isZero();
        assertThat(plan.status().getMessage()).isEqualTo("node node-a runs no VM; 1 migration(s) finishing");
    }

    @Test
    void anEmptyNodeIsCompletedOnceAndKeepsItsCompletionTime() {
        var moved = List.of(migration("web", VMMigrationStatus.Phase.Succeeded));
        var first = Evacuation.next("node-a", null, "g2", NOW.toString(), List.of(), moved, moved, NOW);
        assertThat(first.status().getPhase()).isEqualTo(EvacuationStatus.Phase.Completed);
        assertThat(first.status().getMigrated()).isEqualTo(1);

        var again = Evacuation.next("node-a", first.status(), "g2", NOW.toString(), List.of(), moved, moved, NOW.plusSeconds(60));
        assertThat(again.status().getCompletionTime()).isEqualTo(NOW.toString());
    }

    private static VirtualMachineInstance vmi(String name, InstancePhase phase, boolean onDisk) {
        var vmi = new VirtualMachineInstance();
        vmi.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("default").build());
        var status = new VirtualMachineInstanceStatus();
        status.setPhase(phase);
        if (onDisk) {
            status.setConditions(List.of(new ConditionBuilder().withType("Paused").withStatus("True").withReason("SuspendedToDisk").build()));
        }
        vmi.setStatus(status);
        return vmi;
    }

    private static VMMigration migration(String vm, VMMigrationStatus.Phase phase) {
        var m = new VMMigration();
        m.setMetadata(new ObjectMetaBuilder().withName("evacuate-" + vm).withNamespace("default").build());
        var spec = new VMMigrationSpec();
        spec.setVmName(vm);
        m.setSpec(spec);
        if (phase != null) {
            var status = new VMMigrationStatus();
            status.setPhase(phase);
            m.setStatus(status);
        }
        return m;
    }
}
