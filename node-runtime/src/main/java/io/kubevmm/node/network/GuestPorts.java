package io.kubevmm.node.network;

/**
 * How a guest's NIC meets a segment's bridge on this node. In production a tap device QEMU opens
 * ({@link Taps}); a test may plug other devices (a veth whose far end is a namespace acting as
 * the guest) through the same data plane.
 */
public interface GuestPorts {
    /** Creates {@code device} (if missing), makes it a port of {@code bridge} and sets it up. */
    void plug(String device, String bridge);

    /** Removes {@code device} if it exists. */
    void remove(String device);

    /** Tap devices (iproute2 {@code ip tuntap}), persistent until removed, so QEMU can open them by name. */
    final class Taps implements GuestPorts {
        private final HostCommands commands;

        public Taps(HostCommands commands) {
            this.commands = commands;
        }

        @Override
        public void plug(String device, String bridge) {
            InterfaceNames.checked(device);
            if (!commands.tryRun("ip", "link", "show", "dev", device).ok()) {
                commands.run("ip", "tuntap", "add", "dev", device, "mode", "tap");
            }
            commands.run("ip", "link", "set", "dev", device, "master", InterfaceNames.checked(bridge),
                    "mtu", Integer.toString(Segment.MTU), "up");
        }

        @Override
        public void remove(String device) {
            InterfaceNames.checked(device);
            if (commands.tryRun("ip", "link", "show", "dev", device).ok()) {
                commands.run("ip", "link", "del", "dev", device);
            }
        }
    }
}
