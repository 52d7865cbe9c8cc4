package io.kubevmm.node.engine;

/** Something the guest or the emulator did on its own, outside any operation we asked for. */
public sealed interface VmEvent {
    /** The guest powered itself off (or acknowledged an ACPI power-down). */
    record GuestPoweredOff() implements VmEvent {}

    /** The guest kernel panicked (pvpanic) and the machine halted. */
    record GuestCrashed(String detail) implements VmEvent {}

    /** The guest rebooted itself; it keeps running in the same process. */
    record GuestReset() implements VmEvent {}

    /**
     * The guest opened or closed its end of the guest agent's port (qemu-guest-agent started or
     * stopped); nothing for the lifecycle, the VM's guest agent connects or lets go.
     */
    record GuestAgentChannel(boolean open) implements VmEvent {}

    /** The emulator process is gone. {@code exitCode} is -1 when it was not our child. */
    record ProcessExited(int exitCode, String logTail) implements VmEvent {}
}
