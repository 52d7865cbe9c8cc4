package io.kubevmm.cli;

/**
 * One {@code [LOCAL:]GUEST} argument of port-forward: {@code 8080:80}, {@code 22} (the same port
 * on both sides) or {@code :80} (any free local port).
 */
record PortMapping(int local, int guest) {
    static PortMapping parse(String typed) {
        int colon = typed.indexOf(':');
        if (colon < 0) {
            int port = port(typed, typed, false);
            return new PortMapping(port, port);
        }
        String local = typed.substring(0, colon);
        return new PortMapping(local.isEmpty() ? 0 : port(local, typed, false), port(typed.substring(colon + 1), typed, true));
    }

    /** Only the guest port ({@code --stdio} has no local port). */
    static int guestOnly(String typed) {
        return port(typed.contains(":") ? typed.substring(typed.indexOf(':') + 1) : typed, typed, true);
    }

    private static int port(String text, String typed, boolean guest) {
        try {
            int port = Integer.parseInt(text);
            if (port >= 1 && port <= 65535) {
                return port;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new CliException("port \"" + typed + "\": " + (guest ? "the guest" : "the local") + " port must be a number 1-65535"
                + " (examples: 8080:80, 22, :80)");
    }
}
