package io.kubevmm.node.network;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The forwarding entries of a segment's VXLAN device: for each guest on another node, its MAC to
 * that node's underlay address ({@code bridge fdb replace}), and one all-zero entry per other
 * node with guests on the segment ({@code bridge fdb append 00:00:00:00:00:00}), where broadcast
 * and unknown unicast (ARP, a guest's announcement after migration) go. The device learns nothing
 * itself, so these are all there is: converged to the wanted set, entries that are no longer
 * wanted are deleted.
 */
final class Fdb {
    private static final Logger LOG = Logger.getLogger(Fdb.class);
    static final String FLOOD = "00:00:00:00:00:00";
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HostCommands commands;

    Fdb(HostCommands commands) {
        this.commands = commands;
    }

    /** (mac, underlay address) pairs the VXLAN device has with a remote destination. */
    Set<Map.Entry<String, String>> current(String vxlan) {
        Set<Map.Entry<String, String>> entries = new HashSet<>();
        try {
            JsonNode list = JSON.readTree(commands.run("bridge", "-j", "fdb", "show", "dev", vxlan));
            for (JsonNode e : list) {
                if (e.hasNonNull("dst") && e.hasNonNull("mac")) {
                    entries.add(Map.entry(e.get("mac").asText(), e.get("dst").asText()));
                }
            }
        } catch (IOException e) {
            throw new NetworkException("cannot read the forwarding entries of " + vxlan + ": " + e.getMessage(), e);
        }
        return entries;
    }

    /** Converges {@code vxlan}'s entries to {@code remotes}. */
    void converge(String vxlan, Remotes remotes) {
        Map<String, String> unicast = new HashMap<>();
        remotes.macs().forEach((mac, dst) -> {
            try {
                unicast.put(InterfaceNames.unicastMac("mac", mac), Ipv4Cidr.format(Ipv4Cidr.address("underlay address", dst)));
            } catch (NetworkException e) {
                LOG.warnf("no forwarding entry for %s on %s: %s", mac, vxlan, e.getMessage());
            }
        });
        Set<String> flood = new HashSet<>();
        for (String dst : remotes.nodes()) {
            try {
                flood.add(Ipv4Cidr.format(Ipv4Cidr.address("underlay address", dst)));
            } catch (NetworkException e) {
                LOG.warnf("no flood entry on %s: %s", vxlan, e.getMessage());
            }
        }
        Set<Map.Entry<String, String>> have = current(vxlan);
        for (var e : unicast.entrySet()) {
            if (!have.contains(e)) {
                commands.run("bridge", "fdb", "replace", e.getKey(), "dev", vxlan, "dst", e.getValue());
            }
        }
        for (String dst : flood) {
            if (!have.contains(Map.entry(FLOOD, dst))) {
                commands.run("bridge", "fdb", "append", FLOOD, "dev", vxlan, "dst", dst);
            }
        }
        for (var e : have) {
            boolean wanted = e.getKey().equals(FLOOD) ? flood.contains(e.getValue()) : e.getValue().equals(unicast.get(e.getKey()));
            if (!wanted) {
                // A replace above may have moved this MAC already: then there is nothing left to delete.
                commands.tryRun("bridge", "fdb", "del", e.getKey(), "dev", vxlan, "dst", e.getValue());
            }
        }
    }
}
