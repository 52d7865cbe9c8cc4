package io.kubevmm.operator.vm;

import io.kubevmm.api.status.ConditionTypes;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.v1alpha1.GuestStatus;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceStatus;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** status.guest and AgentConnected: a VM shows what its instance's guest agent reports. */
class GuestAgentRollupTest {

    private static VirtualMachineInstance withAgent(VirtualMachine vm, boolean connected) {
        VirtualMachineInstance vmi = DiskNodeTest.placedOn(vm, "node-a");
        VirtualMachineInstanceStatus status = new VirtualMachineInstanceStatus();
        Conditions c = new Conditions(null, 1L);
        c.set(ConditionTypes.AGENT_CONNECTED, connected, connected ? "Connected" : "AgentNotRunning",
                connected ? "qemu-guest-agent answers" : "no guest agent has opened its port in the guest");
        status.setConditions(c.build());
        if (connected) {
            GuestStatus guest = new GuestStatus();
            guest.setOsName("Debian GNU/Linux 12 (bookworm)");
            guest.setHostname("deb");
            guest.setInterfaces(List.of(new GuestStatus.GuestInterface("ens3", "52:54:00:00:00:03", List.of("10.0.2.15"))));
            status.setGuest(guest);
        }
        vmi.setStatus(status);
        return vmi;
    }

    @Test
    void theVmShowsTheGuestItsInstancesAgentReports() {
        VirtualMachine vm = DiskNodeTest.vm(true, null);
        var status = VmStatusFactory.compute(vm, new VmStatusFactory.Observation(null, "node-a", null, withAgent(vm, true)));
        assertThat(status.getGuest().getOsName()).contains("Debian");
        assertThat(status.getGuest().getInterfaces()).singleElement().satisfies(i -> assertThat(i.getIpAddresses()).containsExactly("10.0.2.15"));
        assertThat(Conditions.find(status.getConditions(), ConditionTypes.AGENT_CONNECTED)).hasValueSatisfying(c -> {
            assertThat(c.getStatus()).isEqualTo("True");
            assertThat(c.getReason()).isEqualTo("Connected");
        });
    }

    @Test
    void withoutAnAgentTheVmSaysWhyAndShowsNoGuest() {
        VirtualMachine vm = DiskNodeTest.vm(true, null);
        var status = VmStatusFactory.compute(vm, new VmStatusFactory.Observation(null, "node-a", null, withAgent(vm, false)));
        assertThat(status.getGuest()).isNull();
        assertThat(Conditions.find(status.getConditions(), ConditionTypes.AGENT_CONNECTED)).hasValueSatisfying(c -> {
            assertThat(c.getStatus()).isEqualTo("False");
            assertThat(c.getReason()).isEqualTo("AgentNotRunning");
        });
    }
}
