package io.kubevmm.operator.network;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A VMNetwork's IPv4 range and which of its addresses a VM may get: never the network address,
 * the gateway (the first host address, which every node's bridge holds) or the broadcast
 * address. Addresses are handled as unsigned 32-bit values in a long. Pure.
 */
public record Ipv4Range(long network, int prefix) {
    /** Prefixes the spec allows: /8 (16 million VMs) to /29 (5 VMs). */
    public static final int MIN_PREFIX = 8;
    public static final int MAX_PREFIX = 29;
    private static final Pattern CIDR = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})/(\\d{1,2})");

    /** The range, or why {@code cidr} is not one (a sentence naming the fix, without the field's name). */
    public static Parsed parse(String cidr) {
        if (cidr == null || cidr.isBlank()) {
            return Parsed.error("is missing; give an IPv4 range such as 10.200.0.0/16");
        }
        Matcher m = CIDR.matcher(cidr.strip());
        if (!m.matches()) {
            return Parsed.error("\"" + cidr + "\" is not an IPv4 range in CIDR notation (example: 10.200.0.0/16)");
        }
        long address = 0;
        for (int i = 1; i <= 4; i++) {
            int octet = Integer.parseInt(m.group(i));
            if (octet > 255) {
                return Parsed.error("\"" + cidr + "\" is not an IPv4 range: " + octet + " is not an octet (0 to 255)");
            }
            address = (address << 8) | octet;
        }
        int prefix = Integer.parseInt(m.group(5));
        if (prefix < MIN_PREFIX || prefix > MAX_PREFIX) {
            return Parsed.error("\"" + cidr + "\" has prefix /" + prefix + "; use /" + MIN_PREFIX + " to /" + MAX_PREFIX
                    + " (a /29 holds 5 VMs, a /16 holds 65533)");
        }
        Ipv4Range range = new Ipv4Range(address & mask(prefix), prefix);
        if (range.network() != address) {
            return Parsed.error("\"" + cidr + "\" has host bits set; the range is " + range);
        }
        return new Parsed(Optional.of(range), null);
    }

    /** A parse result: the range, or the error. */
    public record Parsed(Optional<Ipv4Range> range, String error) {
        static Parsed error(String message) {
            return new Parsed(Optional.empty(), message);
        }
    }

    private static long mask(int prefix) {
        return (0xFFFFFFFFL << (32 - prefix)) & 0xFFFFFFFFL;
    }

    public long broadcast() {
        return network | (~mask(prefix) & 0xFFFFFFFFL);
    }

    /** The first host address: the gateway on every node. */
    public long gateway() {
        return network + 1;
    }

    /** The lowest address a VM can get. */
    public long firstAssignable() {
        return network + 2;
    }

    /** The highest address a VM can get. */
    public long lastAssignable() {
        return broadcast() - 1;
    }

    /** How many VMs the range holds. */
    public long assignableCount() {
        return lastAssignable() - firstAssignable() + 1;
    }

    /** Whether a VM may hold {@code address}. */
    public boolean assignable(long address) {
        return address >= firstAssignable() && address <= lastAssignable();
    }

    /** The address, or -1 when {@code text} is no dotted-quad IPv4 address. */
    public static long address(String text) {
        if (text == null) {
            return -1;
        }
        String[] parts = text.split("\\.", -1);
        if (parts.length != 4) {
            return -1;
        }
        long value = 0;
        for (String part : parts) {
            if (part.isEmpty() || part.length() > 3 || !part.chars().allMatch(Character::isDigit)) {
                return -1;
            }
            int octet = Integer.parseInt(part);
            if (octet > 255) {
                return -1;
            }
            value = (value << 8) | octet;
        }
        return value;
    }

    public static String format(long address) {
        return ((address >> 24) & 0xFF) + "." + ((address >> 16) & 0xFF) + "." + ((address >> 8) & 0xFF) + "." + (address & 0xFF);
    }

    @Override
    public String toString() {
        return format(network) + "/" + prefix;
    }
}
