package io.kubevmm.node.agent;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/**
 * What the guest agent says about the guest: its OS ({@code guest-get-osinfo}), host name
 * ({@code guest-get-host-name}) and network interfaces with their addresses
 * ({@code guest-network-get-interfaces}; loopback left out).
 */
public record GuestInfo(String osName, String osVersion, String kernelRelease, String hostname, List<Interface> interfaces) {

    public record Interface(String name, String macAddress, List<String> ipAddresses) { }

    public GuestInfo {
        interfaces = interfaces == null ? List.of() : List.copyOf(interfaces);
    }

    /** From the three replies' {@code return} members; a missing member is null (an agent may not report it). */
    static GuestInfo fromReplies(JsonNode osinfo, JsonNode hostname, JsonNode interfaces) {
        List<Interface> nics = new ArrayList<>();
        for (JsonNode nic : interfaces) {
            String name = nic.path("name").asText(null);
            if ("lo".equals(name)) {
                continue;
            }
            List<String> addresses = new ArrayList<>();
            for (JsonNode address : nic.path("ip-addresses")) {
                String ip = address.path("ip-address").asText(null);
                if (ip != null && !ip.startsWith("fe80:") && !"::1".equals(ip) && !ip.startsWith("127.")) {
                    addresses.add(ip);
                }
            }
            nics.add(new Interface(name, nic.path("hardware-address").asText(null), addresses));
        }
        // "pretty-name" is e.g. "Debian GNU/Linux 12 (bookworm)"; "name" alone is "Debian GNU/Linux".
        return new GuestInfo(text(osinfo, "pretty-name", text(osinfo, "name", null)), text(osinfo, "version", text(osinfo, "version-id", null)),
                text(osinfo, "kernel-release", null), text(hostname, "host-name", null), nics);
    }

    private static String text(JsonNode node, String field, String otherwise) {
        JsonNode value = node.path(field);
        return value.isTextual() && !value.asText().isBlank() ? value.asText() : otherwise;
    }
}
