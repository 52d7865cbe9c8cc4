package io.kubevmm.api.validation;

import io.fabric8.kubernetes.api.model.Quantity;
import io.kubevmm.api.v1alpha1.QuantityPattern;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.regex.Pattern;

/** Kubernetes quantities (256Mi, 1G) to bytes and back. */
public final class Quantities {
    private static final Pattern SYNTAX = Pattern.compile(QuantityPattern.REGEX);
    private static final String[] BINARY = {"Ei", "Pi", "Ti", "Gi", "Mi", "Ki"};

    private Quantities() { }

    public static boolean isQuantity(String text) {
        return text != null && SYNTAX.matcher(text).matches();
    }

    /** True when the quantity is one and its bytes fit in a long (up to about 8Ei). */
    public static boolean fitsInBytes(String text) {
        return isQuantity(text) && exactBytes(text).compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) <= 0;
    }

    /**
     * Bytes of a quantity, fractions of a byte rounded up (0.5Ki is 512, 1.5 is 2); throws
     * IllegalArgumentException naming the text when it is not a quantity or does not fit a long.
     */
    public static long toBytes(String text) {
        if (!isQuantity(text)) {
            throw new IllegalArgumentException("\"" + text + "\" is not a quantity (example: 512Mi)");
        }
        if (!fitsInBytes(text)) {
            throw new IllegalArgumentException("\"" + text + "\" is too large to count in bytes");
        }
        return exactBytes(text).longValueExact();
    }

    private static BigDecimal exactBytes(String text) {
        return Quantity.getAmountInBytes(new Quantity(text)).setScale(0, RoundingMode.CEILING);
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
