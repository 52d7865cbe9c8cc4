package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.jsonFormatVisitors.JsonFormatVisitorWrapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ser.BeanSerializerFactory;
import com.fasterxml.jackson.databind.ser.ResolvableSerializer;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import com.fasterxml.jackson.databind.util.TokenBuffer;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Writes a {@link LenientSpec} as the plain bean it is, plus, where a value could not be read and
 * nothing set the field since, that raw value in its place: a clone or a patch built from a spec
 * read leniently carries the user's value unchanged (so validation sees it again) instead of
 * silently dropping it. Schema generators see the plain bean.
 */
public final class LenientSpecSerializer extends StdSerializer<LenientSpec> {
    private static final ObjectMapper TREES = new ObjectMapper();
    /** Per instance, so per ObjectMapper (Jackson keeps one serializer per mapper and type): configs stay apart. */
    private final Map<Class<?>, JsonSerializer<Object>> strict = new ConcurrentHashMap<>();

    public LenientSpecSerializer() { super(LenientSpec.class); }

    @Override
    public void serialize(LenientSpec value, JsonGenerator gen, SerializerProvider provider) throws IOException {
        JsonSerializer<Object> bean = strict(provider, provider.constructType(value.getClass()));
        if (value.unreadable().isEmpty()) {
            bean.serialize(value, gen, provider);
            return;
        }
        TokenBuffer buffer = new TokenBuffer(gen.getCodec(), false);
        bean.serialize(value, buffer, provider);
        JsonNode tree = TREES.readTree(buffer.asParser());
        for (LenientSpec.Unreadable u : value.unreadable()) {
            tree = restore(tree, u.path(), u.raw());
        }
        gen.writeTree(tree);
    }

    @Override
    public void acceptJsonFormatVisitor(JsonFormatVisitorWrapper visitor, JavaType typeHint) throws JsonMappingException {
        strict(visitor.getProvider(), typeHint).acceptJsonFormatVisitor(visitor, typeHint);
    }

    /** Puts raw back at path unless the field holds a value again. */
    private static JsonNode restore(JsonNode tree, List<Object> path, JsonNode raw) {
        if (path.isEmpty()) {
            return tree.isEmpty() ? raw : tree;
        }
        JsonNode parent = tree;
        for (int i = 0; i < path.size() - 1 && parent != null; i++) {
            parent = path.get(i) instanceof Integer index ? parent.get(index) : parent.get((String) path.get(i));
        }
        Object last = path.getLast();
        if (parent instanceof ObjectNode object && last instanceof String field
                && (object.get(field) == null || object.get(field).isNull())) {
            object.set(field, raw);
        } else if (parent instanceof ArrayNode array && last instanceof Integer index
                && index < array.size() && array.get(index).isNull()) {
            array.set(index, raw);
        }
        return tree;
    }

    /** The bean serializer Jackson would use without this class's annotation. */
    @SuppressWarnings("unchecked")
    private JsonSerializer<Object> strict(SerializerProvider provider, JavaType type) throws JsonMappingException {
        JsonSerializer<Object> known = strict.get(type.getRawClass());
        if (known != null) {
            return known;
        }
        BeanDescription description = provider.getConfig().introspect(type);
        JsonSerializer<Object> bean = new Plain().bean(provider, type, description);
        if (bean instanceof ResolvableSerializer resolvable) {
            resolvable.resolve(provider);
        }
        strict.put(type.getRawClass(), bean);
        return bean;
    }

    /** Opens the factory's bean serializer construction, which skips class-level serializer annotations. */
    private static final class Plain extends BeanSerializerFactory {
        private Plain() { super(null); }

        JsonSerializer<Object> bean(SerializerProvider provider, JavaType type, BeanDescription description)
                throws JsonMappingException {
            return constructBeanOrAddOnSerializer(provider, type, description, false);
        }
    }
}
