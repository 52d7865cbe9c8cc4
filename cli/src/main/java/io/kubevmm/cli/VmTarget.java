package io.kubevmm.cli;

/**
 * The VM a port-forward or ssh goes to, as typed: {@code vm/NAME} (also {@code virtualmachine/NAME}
 * or a bare {@code NAME}), for ssh optionally preceded by {@code USER@}.
 */
record VmTarget(String user, String name) {
    static VmTarget parse(String typed, boolean userAllowed) {
        String rest = typed;
        String user = null;
        int at = rest.lastIndexOf('@');
        if (at >= 0) {
            if (!userAllowed) {
                throw new CliException("\"" + typed + "\": a port-forward takes vm/NAME, no USER@");
            }
            user = rest.substring(0, at);
            rest = rest.substring(at + 1);
            if (user.isEmpty()) {
                throw new CliException("\"" + typed + "\": nothing before @; write USER@vm/NAME or vm/NAME");
            }
        }
        int slash = rest.indexOf('/');
        if (slash >= 0) {
            String kind = rest.substring(0, slash);
            if (!isVmKind(kind)) {
                throw new CliException("\"" + typed + "\": only virtual machines can be reached; write vm/NAME");
            }
            rest = rest.substring(slash + 1);
        }
        return new VmTarget(user, ClusterObjects.checkedName(Kind.VM, rest));
    }

    private static boolean isVmKind(String kind) {
        try {
            return Kind.parse(kind) == Kind.VM;
        } catch (CliException unknown) {
            return false;
        }
    }
}
