package io.kubevmm.node.network;

import java.util.regex.Pattern;

/** Checks on what the node hands the kernel as names and addresses. */
public final class InterfaceNames {
    /** Linux interface names: at most 15 bytes (IFNAMSIZ less the NUL); ours are lower-case letters and digits. */
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9]{0,14}");
    private static final Pattern MAC = Pattern.compile("[0-9a-f]{2}(:[0-9a-f]{2}){5}");

    private InterfaceNames() { }

    public static String checked(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new NetworkException("\"" + name + "\" cannot be an interface name here (lower-case letters and digits, at most 15)");
        }
        return name;
    }

    /** A unicast MAC in lower-case colon notation; {@code field} names it in the error. */
    public static String unicastMac(String field, String mac) {
        if (mac == null || !MAC.matcher(mac).matches()) {
            throw new NetworkException(field + " \"" + mac + "\" is not a MAC address (six lower-case hex pairs, e.g. 52:54:00:12:34:56)");
        }
        if ((Integer.parseInt(mac.substring(0, 2), 16) & 1) != 0 || mac.equals("00:00:00:00:00:00")) {
            throw new NetworkException(field + " \"" + mac + "\" is not a unicast MAC address");
        }
        return mac;
    }
}
