package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;

import java.util.List;

/**
 * A spec that is read leniently. A value that does not fit its field (an unknown enum value, a
 * number that overflows, a wrong type) does not fail the whole object, which would stop the
 * informer that reads it and with it every other object of the kind: the field stays unset, the
 * raw value is kept (and written back unchanged when the object is serialized again), and the
 * validator reports it as {@code Valid=False} naming the field.
 */
@JsonDeserialize(using = LenientSpecDeserializer.class)
@JsonSerialize(using = LenientSpecSerializer.class)
public abstract class LenientSpec {
    /**
     * A value that could not be read: where it is ({@code path} from the spec down, field names
     * and list indexes), what it was, and what is wrong, as the user reads it.
     */
    public record Unreadable(String field, List<Object> path, JsonNode raw, String message) { }

    @JsonIgnore
    private transient List<Unreadable> unreadable = List.of();

    /** The values this spec held that did not fit their fields; empty when it was read cleanly. */
    public List<Unreadable> unreadable() { return unreadable; }

    void unreadable(List<Unreadable> values) { this.unreadable = List.copyOf(values); }
}
