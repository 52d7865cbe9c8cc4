package io.kubevmm.node.network;

/**
 * An IPv4 range in CIDR notation, checked and normalised: what a network's cidr may be (prefix
 * /8 to /29, the network address itself), its gateway (the first address) and its broadcast.
 */
public record Ipv4Cidr(int network, int prefix) {
    public Ipv4Cidr {
        if (prefix < 8 || prefix > 29) {
            throw new NetworkException("prefix /" + prefix + " is outside /8 to /29");
        }
        if ((network & ~mask(prefix)) != 0) {
            throw new NetworkException(format(network) + "/" + prefix + " is not a network address; use "
                    + format(network & mask(prefix)) + "/" + prefix);
        }
    }

    /** Parses {@code text} ({@code a.b.c.d/p}); {@code field} names it in the error. */
    public static Ipv4Cidr parse(String field, String text) {
        if (text == null) {
            throw new NetworkException(field + " is missing; give an IPv4 range such as 10.200.0.0/16");
        }
        int slash = text.indexOf('/');
        if (slash < 0) {
            throw new NetworkException(field + " \"" + text + "\" has no prefix length; give an IPv4 range such as 10.200.0.0/16");
        }
        try {
            int prefix = Integer.parseInt(text.substring(slash + 1));
            return new Ipv4Cidr(address(field, text.substring(0, slash)), prefix);
        } catch (NumberFormatException e) {
            throw new NetworkException(field + " \"" + text + "\" has no numeric prefix length");
        } catch (NetworkException e) {
            throw new NetworkException(field + ": " + e.getMessage());
        }
    }

    /** A dotted-quad IPv4 address as an int; anything else is an error naming {@code field}. */
    public static int address(String field, String text) {
        if (text == null || !text.matches("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})")) {
            throw new NetworkException(field + " \"" + text + "\" is not an IPv4 address (a.b.c.d)");
        }
        int value = 0;
        for (String part : text.split("\\.")) {
            int octet = Integer.parseInt(part);
            if (octet > 255) {
                throw new NetworkException(field + " \"" + text + "\" is not an IPv4 address (octet " + octet + " > 255)");
            }
            value = (value << 8) | octet;
        }
        return value;
    }

    public static String format(int address) {
        return (address >>> 24) + "." + ((address >>> 16) & 0xff) + "." + ((address >>> 8) & 0xff) + "." + (address & 0xff);
    }

    private static int mask(int prefix) {
        return prefix == 0 ? 0 : -1 << (32 - prefix);
    }

    public String netmask() { return format(mask(prefix)); }

    public String networkAddress() { return format(network); }

    /** The first address: the gateway on every node's bridge. */
    public String gateway() { return format(network + 1); }

    /** {@code <gateway>/<prefix>}, as the bridge carries it. */
    public String gatewayWithPrefix() { return gateway() + "/" + prefix; }

    public String broadcast() { return format(network | ~mask(prefix)); }

    /** Whether {@code address} may be a guest's: inside the range, neither network, gateway nor broadcast. */
    public boolean isGuestAddress(int address) {
        return (address & mask(prefix)) == network && address != network && address != network + 1
                && address != (network | ~mask(prefix));
    }

    @Override
    public String toString() { return networkAddress() + "/" + prefix; }
}
