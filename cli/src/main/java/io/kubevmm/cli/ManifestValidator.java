package io.kubevmm.cli;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.kubevmm.api.validation.FieldError;
import io.kubevmm.api.validation.SpecValidator;
import io.kubevmm.api.v1alpha1.Labels;
import io.kubevmm.api.v1alpha1.VMMigrationSpec;
import io.kubevmm.api.v1alpha1.VMNodeSpec;
import io.kubevmm.api.v1alpha1.VMRestoreSpec;
import io.kubevmm.api.v1alpha1.VMSnapshotSpec;
import io.kubevmm.api.v1alpha1.VirtualMachineSpec;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Checks a manifest before anything is sent: the kind is one apply handles, it has a name, its
 * spec matches the model (field names, enum values, types) and passes the same
 * {@link SpecValidator} the operator runs, so the user sees the field-named error at once.
 */
final class ManifestValidator {
    static final String API_VERSION = Labels.GROUP + "/" + Labels.VERSION;
    /** Strict so a misspelt field is an error here instead of silently dropped by the server. */
    private static final ObjectMapper STRICT = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private ManifestValidator() { }

    /** Problems with one manifest, each a complete sentence naming the field; empty when it can be applied. */
    static List<String> problems(ManifestReader.Manifest manifest) {
        Kind kind = Kind.ofManifest(manifest.kindName());
        if (kind == null || !kind.applicable) {
            return List.of("kind " + manifest.kindName() + " is not a KubeVMM kind apply handles; use one of: "
                    + Arrays.stream(Kind.values()).filter(k -> k.applicable).map(Kind::kindName).collect(Collectors.joining(", ")));
        }
        List<String> problems = new ArrayList<>();
        if (!API_VERSION.equals(manifest.tree().get("apiVersion"))) {
            problems.add("apiVersion \"" + manifest.tree().get("apiVersion") + "\" is not served; use " + API_VERSION);
        }
        String name = manifest.name();
        if (name == null || name.isBlank()) {
            problems.add("metadata.name is required");
        }
        Object spec = manifest.tree().get("spec");
        if (spec != null && !(spec instanceof Map<?, ?>)) {
            problems.add("spec must be an object (field: value lines), not \"" + spec + "\"");
            return problems;
        }
        try {
            specErrors(kind, spec).forEach(e -> problems.add(e.toString()));
        } catch (JsonMappingException e) {
            problems.add(describe(e, kind));
        }
        return problems;
    }

    private static List<FieldError> specErrors(Kind kind, Object spec) throws JsonMappingException {
        return switch (kind) {
            case VM -> SpecValidator.validate(convert(spec, VirtualMachineSpec.class));
            case VMMIG -> SpecValidator.validate(convert(spec, VMMigrationSpec.class));
            case VMSNAP -> SpecValidator.validate(convert(spec, VMSnapshotSpec.class));
            case VMRESTORE -> SpecValidator.validate(convert(spec, VMRestoreSpec.class));
            case VMNODE -> {
                convert(spec, VMNodeSpec.class);
                yield List.of();
            }
            case VMI -> List.of();
        };
    }

    private static <T> T convert(Object spec, Class<T> type) throws JsonMappingException {
        if (spec == null) {
            return null;
        }
        try {
            return STRICT.convertValue(spec, type);
        } catch (IllegalArgumentException e) {
            if (e.getCause() instanceof JsonMappingException mapping) {
                throw mapping;
            }
            throw e;
        }
    }

    /** A Jackson mapping error as a field-named sentence: spec.state "Runing" is not one of ... */
    static String describe(JsonMappingException e, Kind kind) {
        StringBuilder field = new StringBuilder("spec");
        for (JsonMappingException.Reference ref : e.getPath()) {
            field.append(ref.getFieldName() != null ? "." + ref.getFieldName() : "[" + ref.getIndex() + "]");
        }
        if (e instanceof UnrecognizedPropertyException unknown) {
            String known = unknown.getKnownPropertyIds() == null ? "" : unknown.getKnownPropertyIds().stream()
                    .map(String::valueOf).sorted().collect(Collectors.joining(", "));
            return field + " is not a field of " + kind.kindName() + (known.isEmpty() ? "" : "; known here: " + known);
        }
        if (e instanceof InvalidFormatException format) {
            Class<?> target = format.getTargetType();
            if (target != null && target.isEnum()) {
                return field + " \"" + format.getValue() + "\" is not one of: "
                        + Arrays.stream(target.getEnumConstants()).map(String::valueOf).collect(Collectors.joining(", "));
            }
            return field + " \"" + format.getValue() + "\" is not a valid " + simpleType(target);
        }
        if (e.getPath().isEmpty()) {
            return e.getOriginalMessage();
        }
        return field + " has the wrong type (" + e.getOriginalMessage().replaceAll("\\s*\\n.*", "") + ")";
    }

    private static String simpleType(Class<?> type) {
        if (type == null) {
            return "value";
        }
        if (Number.class.isAssignableFrom(type) || type.isPrimitive()) {
            return "number";
        }
        return type == Boolean.class ? "boolean (true or false)" : type.getSimpleName();
    }
}
