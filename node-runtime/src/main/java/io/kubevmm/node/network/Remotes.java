package io.kubevmm.node.network;

import java.util.Map;
import java.util.Set;

/**
 * Where a segment's guests on other nodes are: {@code macs} (guest MAC to its node's underlay
 * address) and {@code nodes} (the underlay addresses of every other node with guests on it).
 */
public record Remotes(Map<String, String> macs, Set<String> nodes) {
    public static final Remotes NONE = new Remotes(Map.of(), Set.of());

    public Remotes {
        macs = Map.copyOf(macs);
        nodes = Set.copyOf(nodes);
    }
}
