package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.BeanProperty;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.deser.BeanDeserializerFactory;
import com.fasterxml.jackson.databind.deser.ContextualDeserializer;
import com.fasterxml.jackson.databind.deser.ResolvableDeserializer;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

import java.io.IOException;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Reads a {@link LenientSpec}: binds it as usual; when a value does not fit (Jackson names the
 * path), records it, clears it and binds again, until the rest fits. Fabric8 and the
 * java-operator-sdk read objects with Jackson (the client's KubernetesSerialization), so this
 * applies in every informer, client and test that reads our kinds.
 */
public final class LenientSpecDeserializer extends StdDeserializer<LenientSpec> implements ContextualDeserializer {
    /** More bad values than this and the spec is hopeless; the last error is rethrown. */
    private static final int MAX_UNREADABLE = 50;
    private static final int MAX_RAW_CHARS = 64;

    private final transient JsonDeserializer<Object> strict;

    public LenientSpecDeserializer() { this(null, null); }

    private LenientSpecDeserializer(JavaType type, JsonDeserializer<Object> strict) {
        super(type == null ? LenientSpec.class : type.getRawClass());
        this.strict = strict;
    }

    @Override
    public JsonDeserializer<?> createContextual(DeserializationContext ctxt, BeanProperty property) throws JsonMappingException {
        JavaType type = ctxt.getContextualType() != null ? ctxt.getContextualType() : property.getType();
        BeanDescription description = ctxt.getConfig().introspect(type);
        // The factory's bean deserializer, built without looking at class annotations (this class's own).
        // The mapper's own factory, so its modules' modifiers apply as they would without this class.
        BeanDeserializerFactory factory = ctxt.getFactory() instanceof BeanDeserializerFactory own ? own : BeanDeserializerFactory.instance;
        JsonDeserializer<Object> bean = factory.buildBeanDeserializer(ctxt, type, description);
        if (bean instanceof ResolvableDeserializer resolvable) {
            resolvable.resolve(ctxt);
        }
        @SuppressWarnings("unchecked")
        JsonDeserializer<Object> contextual = (JsonDeserializer<Object>) ctxt.handleSecondaryContextualization(bean, property, type);
        return new LenientSpecDeserializer(type, contextual);
    }

    @Override
    public LenientSpec deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
        JsonNode tree = ctxt.readTree(p);
        List<LenientSpec.Unreadable> unreadable = new ArrayList<>();
        while (true) {
            try (JsonParser tokens = tree.traverse(p.getCodec())) {
                tokens.nextToken();
                LenientSpec spec = (LenientSpec) strict.deserialize(tokens, ctxt);
                spec.unreadable(unreadable);
                return spec;
            } catch (JsonProcessingException e) {
                if (unreadable.size() >= MAX_UNREADABLE) {
                    throw e;
                }
                List<Object> path = path(e);
                JsonNode raw = at(tree, path);
                unreadable.add(new LenientSpec.Unreadable(field(path), path, raw == null ? NullNode.instance : raw.deepCopy(),
                        display(raw) + " " + problem(e, raw)));
                if (path.isEmpty()) {
                    if (tree.isObject() && tree.isEmpty()) {
                        throw e;
                    }
                    tree = ctxt.getNodeFactory().objectNode();
                } else {
                    tree = tree.deepCopy();
                    clear(tree, path);
                }
            }
        }
    }

    /** Field names and list indexes from the spec down to the value Jackson could not bind. */
    private static List<Object> path(JsonProcessingException e) {
        List<Object> path = new ArrayList<>();
        if (e instanceof JsonMappingException mapping) {
            for (JsonMappingException.Reference ref : mapping.getPath()) {
                if (ref.getFieldName() != null) {
                    path.add(ref.getFieldName());
                } else if (ref.getIndex() >= 0) {
                    path.add(ref.getIndex());
                }
            }
        }
        return path;
    }

    static String field(List<Object> path) {
        StringBuilder field = new StringBuilder("spec");
        for (Object step : path) {
            field.append(step instanceof Integer i ? "[" + i + "]" : "." + step);
        }
        return field.toString();
    }

    private static JsonNode at(JsonNode tree, List<Object> path) {
        JsonNode node = tree;
        for (Object step : path) {
            if (node == null) {
                return null;
            }
            node = step instanceof Integer i ? node.get(i) : node.get((String) step);
        }
        return node;
    }

    /** Removes the value; a list element becomes null so the indexes of the others stay. */
    private static void clear(JsonNode tree, List<Object> path) {
        JsonNode parent = at(tree, path.subList(0, path.size() - 1));
        Object last = path.getLast();
        if (parent instanceof ObjectNode object && last instanceof String name) {
            object.remove(name);
        } else if (parent instanceof ArrayNode array && last instanceof Integer index && index < array.size()) {
            array.set(index, NullNode.instance);
        }
    }

    private static String display(JsonNode raw) {
        String text = raw == null ? "null" : raw.toString();
        return text.length() <= MAX_RAW_CHARS ? text : text.substring(0, MAX_RAW_CHARS) + "... (" + text.length() + " characters)";
    }

    /** What is wrong with the value, from the type Jackson wanted: enum values, integer range, kind of value. */
    private static String problem(JsonProcessingException e, JsonNode raw) {
        if (e instanceof com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException unknown) {
            // Only a strict reader (kubevmm apply) gets here: a misspelt field would otherwise be dropped.
            String known = unknown.getKnownPropertyIds() == null ? "" : unknown.getKnownPropertyIds().stream()
                    .map(String::valueOf).sorted().collect(Collectors.joining(", "));
            return "is not a field of " + unknown.getReferringClass().getSimpleName().replaceFirst("Spec$", "")
                    + (known.isEmpty() ? "" : "; known here: " + known);
        }
        Class<?> target = null;
        for (Throwable t = e; t != null && target == null; t = t.getCause()) {
            if (t instanceof MismatchedInputException mismatch) {
                target = mismatch.getTargetType();
            } else if (t instanceof InputCoercionException coercion) {
                target = coercion.getTargetType();
            }
        }
        if (target == null) {
            return "cannot be read: " + firstLine(e.getOriginalMessage());
        }
        if (target.isEnum()) {
            return "is not one of " + Arrays.stream(target.getEnumConstants()).map(Object::toString)
                    .collect(Collectors.joining(", "));
        }
        if (isInteger(target)) {
            if (raw != null && raw.isIntegralNumber()) {
                return "is out of range (" + range(e, target) + ")";
            }
            return "is not a whole number (" + range(e, target) + ")";
        }
        if (target == Boolean.class || target == boolean.class) {
            return "is not true or false";
        }
        if (target == String.class) {
            return "is not a string";
        }
        if (Collection.class.isAssignableFrom(target)) {
            return "is not a list";
        }
        if (Map.class.isAssignableFrom(target)) {
            return "is not a map";
        }
        return raw instanceof TextNode || (raw != null && !raw.isContainerNode())
                ? "is not an object" : "cannot be read as " + target.getSimpleName();
    }

    private static boolean isInteger(Class<?> type) {
        return type == Integer.class || type == int.class || type == Long.class || type == long.class
                || type == Short.class || type == short.class;
    }

    /** The field's range from its schema annotations (@Min/@Max), else the Java type's. */
    private static String range(JsonProcessingException e, Class<?> target) {
        long min = target == Long.class || target == long.class ? Long.MIN_VALUE
                : target == Short.class || target == short.class ? Short.MIN_VALUE : Integer.MIN_VALUE;
        long max = target == Long.class || target == long.class ? Long.MAX_VALUE
                : target == Short.class || target == short.class ? Short.MAX_VALUE : Integer.MAX_VALUE;
        if (e instanceof JsonMappingException mapping && !mapping.getPath().isEmpty()) {
            JsonMappingException.Reference ref = mapping.getPath().getLast();
            Field field = ref.getFrom() == null || ref.getFieldName() == null ? null
                    : declared(ref.getFrom() instanceof Class<?> c ? c : ref.getFrom().getClass(), ref.getFieldName());
            if (field != null) {
                var lower = field.getAnnotation(io.fabric8.generator.annotation.Min.class);
                var upper = field.getAnnotation(io.fabric8.generator.annotation.Max.class);
                min = lower == null ? min : (long) lower.value();
                max = upper == null ? max : (long) upper.value();
            }
        }
        return min + "-" + max;
    }

    private static Field declared(Class<?> type, String name) {
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            try {
                return c.getDeclaredField(name);
            } catch (NoSuchFieldException ignored) {
                // look in the superclass
            }
        }
        return null;
    }

    private static String firstLine(String message) {
        String line = message == null ? "" : message.lines().findFirst().orElse("");
        return line.length() <= 120 ? line : line.substring(0, 120) + "...";
    }
}
