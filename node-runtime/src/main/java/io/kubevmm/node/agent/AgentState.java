package io.kubevmm.node.agent;

import java.time.Instant;

/**
 * Whether the VM's guest agent answers, why not, and what it last said about the guest.
 *
 * @param reason a CamelCase word for the AgentConnected condition: {@code Connected},
 *               {@code NoChannel} (the machine has no agent channel), {@code NoEmulator} (no QEMU runs the guest), {@code AgentNotRunning}
 *               (the guest has not opened its end: no agent, or it is not started yet),
 *               {@code AgentNotResponding} (the port is open but the agent does not answer)
 * @param info   the guest's OS, host name and interfaces; null until the agent first answered
 * @param frozen the agent holds the guest's file systems frozen (a snapshot is being taken)
 */
public record AgentState(boolean connected, String reason, String message, GuestInfo info, boolean frozen, Instant since) {

    static AgentState disconnected(String reason, String message) {
        return new AgentState(false, reason, message, null, false, Instant.now());
    }

    public static final AgentState NO_EMULATOR = new AgentState(false, "NoEmulator",
            "no emulator runs the guest", null, false, Instant.EPOCH);

    public static final AgentState NO_CHANNEL = new AgentState(false, "NoChannel",
            "this machine has no guest agent channel (profile microvm)", null, false, Instant.EPOCH);
}
