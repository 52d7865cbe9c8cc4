package io.kubevmm.node.network;

import io.kubevmm.node.engine.VmConfig;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * This node's part of the cluster networks: for each segment at least one of its guests is on, the
 * bridge with the gateway, the VXLAN device to the other nodes, the NAT and isolation rules and a
 * DHCP server; a port on the bridge per guest. Brought up with a segment's first guest, removed
 * with its last, so a node without overlay guests has nothing of it; the nftables tables and IP
 * forwarding go with the last segment.
 *
 * <p>All commands run through one {@link HostCommands}, so the whole data plane can live in a
 * network namespace of its own with its own underlay address.
 */
public final class OverlayNetworks implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(OverlayNetworks.class);

    private final HostCommands commands;
    private final GuestPorts ports;
    private final Path dir;
    private final String underlayAddress;
    private final SegmentDevices devices;
    private final NatRules nat;
    private final Fdb fdb;
    private final Map<Integer, Active> segments = new TreeMap<>();
    /** Null until told: entries an earlier node runtime programmed stay until this one knows better. */
    private Map<Integer, Remotes> remotes;
    /** net.ipv4.ip_forward as it was before the first segment set it, restored after the last; null: not changed. */
    private String forwardingBefore;

    /** A segment this node carries: its DHCP server and its guests' ports (device to MAC and IP). */
    private record Active(Segment segment, Dnsmasq dhcp, Map<String, VmConfig.Overlay> ports) {
        Map<String, String> leases() {
            Map<String, String> l = new LinkedHashMap<>();
            ports.values().forEach(o -> l.put(o.macAddress(), o.ipAddress()));
            return l;
        }
    }

    /**
     * @param dir             where the DHCP servers keep their files (under the node's state dir)
     * @param underlayAddress this node's address on the network between nodes: VXLAN packets leave from
     *                        it and other nodes send this node's guests' traffic to it
     */
    public OverlayNetworks(HostCommands commands, GuestPorts ports, Path dir, String underlayAddress) {
        this.commands = commands;
        this.ports = ports;
        this.dir = dir;
        this.underlayAddress = underlayAddress; // checked when a segment needs it: a node without overlay guests never does
        try {
            if ((Ipv4Cidr.address("underlay", underlayAddress) >>> 24) == 127) {
                LOG.infof("underlay address %s is loopback: overlay networks reach no other node from here"
                        + " (set kubevmm.node.underlay-address to this node's address between the nodes)", underlayAddress);
            }
        } catch (NetworkException e) {
            LOG.warnf("kubevmm.node.underlay-address: %s; overlay VMs cannot start on this node until it is an IPv4 address", e.getMessage());
        }
        this.devices = new SegmentDevices(commands);
        this.nat = new NatRules(commands);
        this.fdb = new Fdb(commands);
    }

    public String underlayAddress() { return underlayAddress; }

    /**
     * Puts guest port {@code device} on {@code overlay}'s segment (brought up first if this is its
     * first guest here) and gives the guest's MAC its address by DHCP.
     *
     * @throws NetworkException naming the value refused, or the command that failed
     */
    public synchronized void attach(String device, VmConfig.Overlay overlay) {
        InterfaceNames.checked(device);
        Segment segment = Segment.of(overlay);
        InterfaceNames.unicastMac("overlay macAddress", overlay.macAddress());
        if (!segment.cidr().isGuestAddress(Ipv4Cidr.address("overlay ipAddress", overlay.ipAddress()))) {
            throw new NetworkException("overlay ipAddress " + overlay.ipAddress() + " is not a guest address of " + segment.cidr()
                    + " (inside the range, not its network, gateway " + segment.cidr().gateway() + " or broadcast address)");
        }
        Active active = segments.get(segment.vni());
        if (active != null && !active.segment().equals(segment)) {
            throw new NetworkException("vni " + segment.vni() + " is " + active.segment().cidr() + " on this node, not "
                    + segment.cidr() + ": one VXLAN segment carries one network");
        }
        if (segments.values().stream().anyMatch(a -> a != segments.get(segment.vni()) && a.ports().containsKey(device))) {
            detach(device); // the guest changed networks since its last start
            active = segments.get(segment.vni());
        }
        if (active == null) {
            active = bringUp(segment);
        }
        try {
            ports.plug(device, segment.bridge());
        } catch (RuntimeException e) {
            if (active.ports().isEmpty()) {
                segments.remove(segment.vni());
                tearDown(active);
            }
            throw e;
        }
        VmConfig.Overlay before = active.ports().put(device, overlay);
        if (!overlay.equals(before)) {
            active.dhcp().update(active.leases());
        }
        LOG.infof("%s (MAC %s, %s) is on %s", device, overlay.macAddress(), overlay.ipAddress(), segment.bridge());
    }

    /** Takes {@code device} off its segment; the segment goes with its last guest port. */
    public synchronized void detach(String device) {
        for (var it = segments.values().iterator(); it.hasNext(); ) {
            Active active = it.next();
            if (active.ports().remove(device) != null) {
                ports.remove(device);
                if (active.ports().isEmpty()) {
                    it.remove();
                    tearDown(active);
                } else {
                    active.dhcp().update(active.leases());
                }
                LOG.infof("%s left %s", device, active.segment().bridge());
                return;
            }
        }
    }

    /** The guest ports on this node's segments. */
    public synchronized Set<String> attached() {
        Set<String> all = new java.util.TreeSet<>();
        segments.values().forEach(a -> all.addAll(a.ports().keySet()));
        return all;
    }

    /** The segments this node carries now. */
    public synchronized List<Segment> segments() {
        return segments.values().stream().map(Active::segment).toList();
    }

    /**
     * Where each segment's guests on other nodes are (by vni): the VXLAN devices' forwarding
     * entries follow. Kept for segments this node brings up later.
     */
    public synchronized void remotes(Map<Integer, Remotes> byVni) {
        this.remotes = Map.copyOf(byVni);
        for (Active active : segments.values()) {
            fdb.converge(active.segment().vxlan(), remotes.getOrDefault(active.segment().vni(), Remotes.NONE));
        }
    }

    /**
     * The node runtime stops: its DHCP servers end with it; every segment whose guests are gone
     * is removed, one that still has a guest {@code inUse} says runs (guests outlive the node
     * runtime, the next one adopts them) keeps its devices and rules for them.
     */
    public synchronized void shutdown(Predicate<String> inUse) {
        for (var it = segments.values().iterator(); it.hasNext(); ) {
            Active active = it.next();
            List<String> gone = active.ports().keySet().stream().filter(inUse.negate()).toList();
            gone.forEach(device -> {
                active.ports().remove(device);
                ports.remove(device);
            });
            if (active.ports().isEmpty()) {
                it.remove();
                tearDown(active);
            } else {
                active.dhcp().stop();
                LOG.infof("%s stays for %d guests that still run: %s", active.segment().bridge(), active.ports().size(),
                        active.ports().keySet());
            }
        }
    }

    /** Removes everything this data plane created, guest ports included. */
    @Override
    public synchronized void close() {
        shutdown(device -> false);
    }

    private Active bringUp(Segment segment) {
        String local = Ipv4Cidr.format(Ipv4Cidr.address("kubevmm.node.underlay-address", underlayAddress));
        LOG.infof("bringing up overlay segment vni %d (%s) on this node: bridge %s, VXLAN %s from %s",
                segment.vni(), segment.cidr(), segment.bridge(), segment.vxlan(), underlayAddress);
        if (segments.isEmpty()) {
            enableForwarding();
        }
        Active active = new Active(segment, new Dnsmasq(commands, segment, dir.resolve(segment.bridge())), new HashMap<>());
        try {
            devices.create(segment, local);
            List<Segment> all = new ArrayList<>(segments());
            all.add(segment);
            nat.apply(all);
            active.dhcp().start(Map.of());
            if (remotes != null) {
                fdb.converge(segment.vxlan(), remotes.getOrDefault(segment.vni(), Remotes.NONE));
            }
        } catch (RuntimeException e) {
            tearDown(active);
            if (segments.isEmpty()) {
                restoreForwarding();
            }
            throw e;
        }
        segments.put(segment.vni(), active);
        return active;
    }

    private void tearDown(Active active) {
        Segment segment = active.segment();
        active.ports().keySet().forEach(ports::remove);
        active.dhcp().stop();
        try {
            devices.delete(segment);
        } catch (NetworkException e) {
            LOG.warnf("removing segment %s: %s", segment.bridge(), e.getMessage());
        }
        try {
            nat.apply(segments());
        } catch (NetworkException e) {
            LOG.warnf("updating the nftables rules: %s", e.getMessage());
        }
        if (segments.isEmpty()) {
            restoreForwarding();
        }
        try {
            io.kubevmm.node.files.FileTree.delete(dir.resolve(segment.bridge()));
            if (Files.isDirectory(dir) && segments.isEmpty()) {
                try (var left = Files.list(dir)) {
                    if (left.findAny().isEmpty()) {
                        Files.delete(dir);
                    }
                }
            }
        } catch (IOException e) {
            LOG.warnf("cannot delete %s: %s", dir.resolve(segment.bridge()), e.getMessage());
        }
        LOG.infof("overlay segment vni %d removed from this node", segment.vni());
    }

    /**
     * Switches IP forwarding on for the guests' NAT and records what it was in the state dir, so
     * that whichever node runtime removes the last segment (maybe a later one) puts it back.
     */
    private void enableForwarding() {
        Path record = dir.resolve("ip_forward.before");
        try {
            if (Files.exists(record)) {
                forwardingBefore = Files.readString(record).strip(); // an earlier node runtime switched it on
                return;
            }
            String now = commands.run("sysctl", "-n", "net.ipv4.ip_forward").strip();
            if (!"1".equals(now)) {
                Files.createDirectories(dir);
                Files.writeString(record, now);
                commands.run("sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
                forwardingBefore = now;
            }
        } catch (IOException e) {
            throw new NetworkException("cannot record net.ipv4.ip_forward in " + record + ": " + e.getMessage(), e);
        }
    }

    private void restoreForwarding() {
        if (forwardingBefore != null) {
            try {
                commands.run("sysctl", "-q", "-w", "net.ipv4.ip_forward=" + ("0".equals(forwardingBefore) ? "0" : "1"));
                Files.deleteIfExists(dir.resolve("ip_forward.before"));
            } catch (NetworkException | IOException e) {
                LOG.warnf("cannot restore net.ipv4.ip_forward: %s", e.getMessage());
            }
            forwardingBefore = null;
        }
    }
}
