package io.kubevmm.node.network;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Network namespaces a test creates to stand for hosts and guests, each deleted again by
 * {@link #close} (with every device in it), whatever the test did. Names carry a random suffix so
 * tests running at once never meet.
 */
final class NetnsHosts implements AutoCloseable {
    private final String suffix = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff));
    private final List<String> created = new ArrayList<>();
    /** net.ipv4.ip_forward of each namespace when it was made (a new namespace inherits the host's). */
    private final java.util.Map<String, String> forwarding = new java.util.HashMap<>();
    private final HostCommands root = HostCommands.host();

    /** Creates namespace {@code role}-suffix with its loopback up. */
    String create(String role) {
        String name = "kvt" + role + "-" + suffix;
        root.run("ip", "netns", "add", name);
        created.add(name);
        root.run("ip", "-n", name, "link", "set", "lo", "up");
        // A new namespace inherits the host's forwarding; each starts as a host that does not forward,
        // so that a data plane switching it on must also switch it off again.
        in(name).run("sysctl", "-q", "-w", "net.ipv4.ip_forward=0");
        forwarding.put(name, in(name).run("sysctl", "-n", "net.ipv4.ip_forward").strip());
        return name;
    }

    HostCommands in(String namespace) {
        return HostCommands.inNamespace(namespace);
    }

    /** A veth pair: {@code aName} in {@code a} with {@code aAddress}, {@code bName} in {@code b} with {@code bAddress}; both up. */
    void link(String a, String aName, String aAddress, String b, String bName, String bAddress) {
        root.run("ip", "-n", a, "link", "add", aName, "type", "veth", "peer", "name", bName, "netns", b);
        root.run("ip", "-n", a, "addr", "add", aAddress, "dev", aName);
        root.run("ip", "-n", b, "addr", "add", bAddress, "dev", bName);
        root.run("ip", "-n", a, "link", "set", aName, "up");
        root.run("ip", "-n", b, "link", "set", bName, "up");
    }

    String forwardingAtStart(String namespace) {
        return forwarding.get(namespace);
    }

    @Override
    public void close() {
        for (String ns : created.reversed()) {
            root.tryRun("ip", "netns", "del", ns);
        }
        created.clear();
    }

    /**
     * Guest ports that are veth pairs: the bridge end in the host namespace under the port's
     * name, the guest's end ({@code eth0}) in the guest's namespace, so a namespace acts as the
     * guest a tap would serve.
     */
    static final class VethPorts implements GuestPorts {
        private final String host;
        private final java.util.Map<String, String> guests;
        private final HostCommands commands;

        /** {@code guests}: the guest namespace behind each port name. */
        VethPorts(String host, java.util.Map<String, String> guests) {
            this.host = host;
            this.guests = guests;
            this.commands = HostCommands.inNamespace(host);
        }

        @Override
        public void plug(String device, String bridge) {
            if (!commands.tryRun("ip", "link", "show", "dev", device).ok()) {
                HostCommands.host().run("ip", "-n", host, "link", "add", device, "type", "veth", "peer", "name", "eth0", "netns", guests.get(device));
            }
            commands.run("ip", "link", "set", "dev", device, "master", bridge, "mtu", Integer.toString(Segment.MTU), "up");
        }

        @Override
        public void remove(String device) {
            if (commands.tryRun("ip", "link", "show", "dev", device).ok()) {
                commands.run("ip", "link", "del", "dev", device);
            }
        }
    }
}
