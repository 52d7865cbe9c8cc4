package io.kubevmm.node.api;

import jakarta.ws.rs.NotFoundException;

import java.util.regex.Pattern;

/**
 * The only names the node API builds file paths from: a namespace must be a DNS label and an
 * object name a DNS subdomain, as Kubernetes requires of them, checked after URL decoding. Any
 * other value (an encoded {@code /}, {@code ..}) cannot name a VM or snapshot, so it is a 404.
 */
final class RequestNames {
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
    private static final Pattern DNS_SUBDOMAIN = Pattern.compile(
            "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

    private RequestNames() { }

    static boolean isNamespace(String s) {
        return s != null && DNS_LABEL.matcher(s).matches();
    }

    static boolean isName(String s) {
        return s != null && s.length() <= 253 && DNS_SUBDOMAIN.matcher(s).matches();
    }

    /** Rejects with 404 unless {@code namespace}/{@code name} can be a Kubernetes object's. */
    static void requireObject(String what, String namespace, String name) {
        if (!isNamespace(namespace) || !isName(name)) {
            throw new NotFoundException("no " + what + " by that name: a namespace is a DNS label and a name a DNS subdomain");
        }
    }

    /** A snapshot store name {@code <namespace>_<name>}, each part checked; else 404. */
    static void requireStoreName(String storeName) {
        int sep = storeName == null ? -1 : storeName.indexOf('_');
        if (sep < 0) {
            throw new NotFoundException("no snapshot by that name: expected <namespace>_<name>");
        }
        requireObject("snapshot", storeName.substring(0, sep), storeName.substring(sep + 1));
    }
}
