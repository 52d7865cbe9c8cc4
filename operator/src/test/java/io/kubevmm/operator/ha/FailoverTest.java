package io.kubevmm.operator.ha;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.kubevmm.api.v1alpha1.DiskSpec;
import io.kubevmm.api.v1alpha1.HighAvailabilitySpec;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineSpec;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The failover decisions of docs/ha.md with a fake clock: a node renewed at T0 with a 15 s lease
 * is lost from T0+15 s; its Restart VMs move only once it is marked fenced and T0+15 s+margin
 * passed; mode None and VMs with local disks (without restartWithLocalDiskLoss) stay down.
 */
class FailoverTest {
    static final Instant T0 = Instant.parse("2026-12-07T10:00:00Z");
    static final Duration LEASE = Duration.ofSeconds(15);
    static final Duration MARGIN = Duration.ofSeconds(2);

    static NodeLease lease(Instant fencedAt) {
        return new NodeLease("node-a", T0, LEASE, fencedAt, "7");
    }

    static VirtualMachine vm(HighAvailabilitySpec.Mode mode, boolean disks, Boolean diskLoss) {
        VirtualMachine vm = new VirtualMachine();
        vm.setMetadata(new ObjectMetaBuilder().withName("web").withNamespace("default").build());
        VirtualMachineSpec spec = new VirtualMachineSpec();
        if (mode != null) {
            HighAvailabilitySpec ha = new HighAvailabilitySpec();
            ha.setMode(mode);
            ha.setRestartWithLocalDiskLoss(diskLoss);
            spec.setHighAvailability(ha);
        }
        if (disks) {
            DiskSpec disk = new DiskSpec();
            disk.setName("data");
            disk.setSize("1Gi");
            spec.setDisks(List.of(disk));
        }
        vm.setSpec(spec);
        return vm;
    }

    @Test
    void aNodeIsLostWhenItsLeaseExpires() {
        NodeLease lease = lease(null);
        assertThat(lease.lost(T0.plusSeconds(14).plusMillis(999))).isFalse();
        assertThat(lease.lost(T0.plusSeconds(15))).isTrue();
        assertThat(lease.fencedBy(MARGIN)).isEqualTo(T0.plusSeconds(17));
        assertThat(NodeLease.missing("node-a").lost(T0)).as("no Lease at all: lost").isTrue();
    }

    @Test
    void nothingHappensWhileTheLeaseIsFresh() {
        var decision = Failover.decide(vm(HighAvailabilitySpec.Mode.Restart, false, null), lease(null), T0.plusSeconds(10), MARGIN);
        assertThat(decision.action()).isEqualTo(Failover.Action.NONE);
        assertThat(decision.nodeLost()).isFalse();
    }

    @Test
    void aRestartVmWaitsForTheFenceDeadlineAndTheMarkThenMoves() {
        VirtualMachine vm = vm(HighAvailabilitySpec.Mode.Restart, false, null);
        var expired = Failover.decide(vm, lease(null), T0.plusSeconds(15), MARGIN);
        assertThat(expired.action()).isEqualTo(Failover.Action.WAIT_FOR_FENCE);
        assertThat(expired.message()).contains("node node-a is lost").contains("expired at " + T0.plusSeconds(15))
                .contains("restarting on another node after fencing at " + T0.plusSeconds(17));
        assertThat(expired.recheckAt()).isEqualTo(T0.plusSeconds(17));

        var unmarked = Failover.decide(vm, lease(null), T0.plusSeconds(18), MARGIN);
        assertThat(unmarked.action()).as("past the deadline but not marked: a renewal may still win").isEqualTo(Failover.Action.WAIT_FOR_FENCE);

        var markedEarly = Failover.decide(vm, lease(T0.plusSeconds(16)), T0.plusSeconds(16), MARGIN);
        assertThat(markedEarly.action()).as("never before the deadline").isEqualTo(Failover.Action.WAIT_FOR_FENCE);

        var fenced = Failover.decide(vm, lease(T0.plusSeconds(17)), T0.plusSeconds(17), MARGIN);
        assertThat(fenced.action()).isEqualTo(Failover.Action.RESTART_ELSEWHERE);
    }

    @Test
    void aMarkedNodeThatCameBackStillGivesUpItsRestartVms() {
        NodeLease back = new NodeLease("node-a", T0.plusSeconds(30), LEASE, T0.plusSeconds(17), "9");
        assertThat(back.renewedSinceFence()).isTrue();
        assertThat(Failover.decide(vm(HighAvailabilitySpec.Mode.Restart, false, null), back, T0.plusSeconds(31), MARGIN).action())
                .isEqualTo(Failover.Action.RESTART_ELSEWHERE);
        assertThat(Failover.decide(vm(HighAvailabilitySpec.Mode.None, false, null), back, T0.plusSeconds(31), MARGIN).action())
                .as("a mode None guest is never fenced: it runs on the node that came back").isEqualTo(Failover.Action.NONE);
        var bound = Failover.decide(vm(HighAvailabilitySpec.Mode.Restart, true, null), back, T0.plusSeconds(31), MARGIN);
        assertThat(bound.action()).isEqualTo(Failover.Action.STAY_DOWN);
        assertThat(bound.message()).contains("back").contains("fence mark");
    }

    @Test
    void withoutALeaseToMarkNothingProvesTheNodeStoppedItsGuests() {
        var decision = Failover.decide(vm(HighAvailabilitySpec.Mode.Restart, false, null), NodeLease.missing("node-a"),
                T0.plusSeconds(100), MARGIN);
        assertThat(decision.action()).isEqualTo(Failover.Action.WAIT_FOR_FENCE);
        assertThat(decision.message()).contains("only once the node's Lease kubevmm-node-node-a exists");
    }

    @Test
    void onlyAVmMeantToRunIsRestartedElsewhere() {
        VirtualMachine stopped = vm(HighAvailabilitySpec.Mode.Restart, false, null);
        stopped.getSpec().setState(io.kubevmm.api.v1alpha1.VmState.Suspended);
        var decision = Failover.decide(stopped, lease(T0.plusSeconds(17)), T0.plusSeconds(20), MARGIN);
        assertThat(decision.action()).isEqualTo(Failover.Action.STAY_DOWN);
        assertThat(decision.message()).contains("its spec.state is Suspended");
        assertThat(Failover.movable(stopped)).isFalse();
    }

    @Test
    void modeNoneStaysDownAndSaysWhenItComesBack() {
        var decision = Failover.decide(vm(null, false, null), lease(null), T0.plusSeconds(20), MARGIN);
        assertThat(decision.action()).isEqualTo(Failover.Action.STAY_DOWN);
        assertThat(decision.message()).contains("stays down: highAvailability.mode is None")
                .contains("starts again when node node-a returns or when you delete and recreate it");
    }

    @Test
    void localDisksKeepARestartVmDownUnlessTheUserGaveThemUp() {
        var kept = Failover.decide(vm(HighAvailabilitySpec.Mode.Restart, true, null), lease(T0.plusSeconds(17)), T0.plusSeconds(20), MARGIN);
        assertThat(kept.action()).isEqualTo(Failover.Action.STAY_DOWN);
        assertThat(kept.message()).contains("its disks exist only on node node-a")
                .contains("spec.highAvailability.restartWithLocalDiskLoss: true");
        assertThat(Failover.movable(vm(HighAvailabilitySpec.Mode.Restart, true, null))).isFalse();

        var given = Failover.decide(vm(HighAvailabilitySpec.Mode.Restart, true, true), lease(T0.plusSeconds(17)), T0.plusSeconds(20), MARGIN);
        assertThat(given.action()).isEqualTo(Failover.Action.RESTART_ELSEWHERE);
        assertThat(given.message()).contains("fresh disks");
        assertThat(Failover.movable(vm(HighAvailabilitySpec.Mode.Restart, true, true))).isTrue();
    }

    @Test
    void theLeaseIsReadWithItsFenceMark() {
        var lease = new io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder()
                .withNewMetadata().withName("kubevmm-node-node-a").withResourceVersion("42")
                .addToAnnotations(NodeHealth.FENCED_ANNOTATION, T0.plusSeconds(17).toString()).endMetadata()
                .withNewSpec().withRenewTime(T0.atZone(java.time.ZoneOffset.UTC)).withLeaseDurationSeconds(15).endSpec().build();
        NodeLease view = NodeHealth.view("node-a", lease);
        assertThat(view.renewTime()).isEqualTo(T0);
        assertThat(view.duration()).isEqualTo(LEASE);
        assertThat(view.fencedAt()).isEqualTo(T0.plusSeconds(17));
        assertThat(view.version()).isEqualTo("42");
        assertThat(NodeHealth.view("node-a", null).fenceMarked()).isFalse();
    }
}
