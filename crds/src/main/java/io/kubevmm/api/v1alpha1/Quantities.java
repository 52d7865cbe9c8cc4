package io.kubevmm.api.v1alpha1;

/** Schema-level facts about Kubernetes quantities; parsing lives in {@code io.kubevmm.api.validation.Quantities}. */
final class Quantities {
    /** Binary or decimal suffixes as Kubernetes accepts them, e.g. 256Mi, 1G, 512000Ki. */
    static final String PATTERN = "^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$";

    private Quantities() { }
}
