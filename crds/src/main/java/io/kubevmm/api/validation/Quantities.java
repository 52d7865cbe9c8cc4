package io.kubevmm.api.validation;

import io.fabric8.kubernetes.api.model.Quantity;

import java.math.BigDecimal;
import java.util.regex.Pattern;

/** Kubernetes quantities (256Mi, 1G) to bytes and back. */
public final class Quantities {
    private static final Pattern SYNTAX = Pattern.compile("^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$");
    private static final String[] BINARY = {"Ei", "Pi", "Ti", "Gi", "Mi", "Ki"};

    private Quantities() { }

    public static boolean isQuantity(String text) {
        return text != null && SYNTAX.matcher(text).matches();
    }

    /** Bytes of a quantity; throws IllegalArgumentException naming the text when it is not one. */
    public static long toBytes(String text) {
        if (!isQuantity(text)) {
            throw new IllegalArgumentException("\"" + text + "\" is not a quantity (example: 512Mi)");
        }
        BigDecimal bytes = Quantity.getAmountInBytes(new Quantity(text));
        return bytes.longValueExact();
    }

    /** The shortest exact binary form: 268435456 -> 256Mi, 262152Ki stays Ki, odd byte counts stay plain. */
    public static String format(long bytes) {
        if (bytes == 0) {
            return "0";
        }
        for (int i = 0; i < BINARY.length; i++) {
            long unit = 1L << (10 * (BINARY.length - i));
            if (bytes % unit == 0) {
                return (bytes / unit) + BINARY[i];
            }
        }
        return Long.toString(bytes);
    }
}
