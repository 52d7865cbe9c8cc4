package io.kubevmm.node.qmp;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/** The QMP wire format: what the client sends and how it reads what QEMU sends. No I/O here. */
final class QmpMessages {
    // The client closes the channel itself; the parser must not do it behind its back.
    private static final ObjectMapper JSON = new ObjectMapper(
            JsonFactory.builder().disable(StreamReadFeature.AUTO_CLOSE_SOURCE).build());

    private QmpMessages() { }

    /**
     * QEMU's output as a stream of JSON objects. QEMU ends each with CRLF, but nothing here relies
     * on it: an object split over several reads, or several objects in one read, parse the same.
     */
    static MappingIterator<JsonNode> reader(InputStream in) throws IOException {
        return JSON.readerFor(JsonNode.class).readValues(in);
    }

    /**
     * A command without its id yet. Arguments are converted here, on the caller's thread, so that
     * a value Jackson cannot serialise fails the caller (IllegalArgumentException) before anything is sent.
     * A null or empty argument map sends no {@code arguments} member.
     */
    static ObjectNode command(String command, Map<String, ?> arguments) {
        ObjectNode message = JSON.createObjectNode().put("execute", command);
        if (arguments != null && !arguments.isEmpty()) {
            message.set("arguments", JSON.valueToTree(arguments));
        }
        return message;
    }

    /** The command with its id, as one newline-terminated line of JSON. */
    static byte[] line(ObjectNode command, long id) {
        try {
            return (JSON.writeValueAsString(command.put("id", id)) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree always serialises", e);
        }
    }

    static boolean isGreeting(JsonNode message) {
        return message.has("QMP");
    }

    static boolean isEvent(JsonNode message) {
        return message.has("event");
    }

    /** The id of a reply, or null for messages without one (QEMU omits it when it cannot parse a command). */
    static Long replyId(JsonNode message) {
        JsonNode id = message.get("id");
        return id != null && id.canConvertToLong() ? id.asLong() : null;
    }

    static QemuVersion version(JsonNode greeting) {
        JsonNode qemu = greeting.path("QMP").path("version").path("qemu");
        return new QemuVersion(qemu.path("major").asInt(), qemu.path("minor").asInt(), qemu.path("micro").asInt());
    }

    static QmpEvent event(JsonNode message) {
        JsonNode data = message.get("data");
        JsonNode ts = message.path("timestamp");
        Instant timestamp = Instant.ofEpochSecond(ts.path("seconds").asLong(), ts.path("microseconds").asLong() * 1_000);
        return new QmpEvent(message.path("event").asText(), data == null ? JSON.createObjectNode() : data, timestamp);
    }

    static JsonNode emptyReturn() {
        return JSON.createObjectNode();
    }

    /** QEMU's {@code error} member as an exception whose message names the command. */
    static QmpException error(String command, JsonNode error) {
        String errorClass = error.path("class").asText("GenericError");
        return new QmpException(command, errorClass,
                "QMP command '" + command + "' failed: " + errorClass + ": " + error.path("desc").asText());
    }

    /** Durations as people write them in messages: 5s, 250ms, 2m. */
    static String describe(Duration d) {
        if (d.toMillis() % 1000 != 0) {
            return d.toMillis() + "ms";
        }
        long seconds = d.toSeconds();
        return seconds % 60 == 0 && seconds > 0 ? seconds / 60 + "m" : seconds + "s";
    }
}
