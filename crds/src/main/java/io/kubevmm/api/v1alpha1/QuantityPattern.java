package io.kubevmm.api.v1alpha1;

/**
 * The syntax of a memory or disk size as the CRD schema checks it; turning one into bytes is
 * {@code io.kubevmm.api.validation.Quantities}.
 */
public final class QuantityPattern {
    /** Binary or decimal suffixes as Kubernetes accepts them, e.g. 256Mi, 1G, 512000Ki. */
    public static final String REGEX = "^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$";

    private QuantityPattern() { }
}
