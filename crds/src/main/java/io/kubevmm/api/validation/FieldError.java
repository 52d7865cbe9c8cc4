package io.kubevmm.api.validation;

/**
 * One problem with a spec: the field's path and a message saying what is wrong and how to fix
 * it. Printed as the user sees it: {@code spec.memory "12Zi" is not a quantity (example: 512Mi)}.
 */
public record FieldError(String field, String message) {
    @Override
    public String toString() {
        return field + " " + message;
    }
}
