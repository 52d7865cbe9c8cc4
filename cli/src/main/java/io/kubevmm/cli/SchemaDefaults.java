package io.kubevmm.cli;

import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.kubevmm.api.v1alpha1.Labels;

/**
 * Defaults declared in the CRD schema (a real API server fills them in; the local cluster's does
 * not), so {@code describe} can show what an unset field means: {@code microvm (default)}.
 */
final class SchemaDefaults {
    private SchemaDefaults() { }

    /** The default of a dotted field path such as {@code spec.network.mode}, or null. */
    static String of(Kind kind, String field) {
        JSONSchemaProps schema = PrinterColumns.crd(kind).getSpec().getVersions().stream()
                .filter(v -> Labels.VERSION.equals(v.getName())).findFirst().orElseThrow()
                .getSchema().getOpenAPIV3Schema();
        for (String part : field.split("\\.")) {
            schema = schema == null || schema.getProperties() == null ? null : schema.getProperties().get(part);
        }
        return schema == null || schema.getDefault() == null ? null : schema.getDefault().asText();
    }

    /** The field's value, else its default marked as such, else null. */
    static String valueOrDefault(Kind kind, Object tree, String field) {
        String value = JsonPath.string(tree, "." + field);
        if (value != null) {
            return value;
        }
        String fallback = of(kind, field);
        return fallback == null ? null : fallback + " (default)";
    }
}
