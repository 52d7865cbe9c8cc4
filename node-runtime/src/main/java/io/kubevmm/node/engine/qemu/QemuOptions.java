package io.kubevmm.node.engine.qemu;

import java.util.regex.Pattern;

/**
 * Builds QEMU option strings ({@code key=value,key=value}) from values that may come from
 * users, a defence beside the validator: a ',' in a value is doubled (QEMU's escape), so it can
 * never end the value and start an option of its own; ids must be QEMU identifiers.
 */
final class QemuOptions {
    /** QEMU's rule for ids and node names: a letter, then letters, digits, '-', '.', '_' (at most 127). */
    private static final Pattern ID = Pattern.compile("[A-Za-z][A-Za-z0-9._-]{0,126}");

    private QemuOptions() { }

    /** A value escaped for an option string: ',' doubled. */
    static String value(Object value) {
        return value.toString().replace(",", ",,");
    }

    /** An id or node name as it is; refused (naming what it is) unless QEMU takes it as an identifier. */
    static String id(String what, String id) {
        if (id == null || !ID.matcher(id).matches()) {
            throw new IllegalArgumentException(what + " \"" + id + "\" cannot be a QEMU id; use a DNS label starting with a letter");
        }
        return id;
    }
}
