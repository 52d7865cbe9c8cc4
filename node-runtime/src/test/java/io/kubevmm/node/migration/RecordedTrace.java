package io.kubevmm.node.migration;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kubevmm.node.engine.MigrationSample;
import io.kubevmm.node.engine.qemu.QueryMigrate;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A migration recorded from real QEMU by {@link TraceRecorder}: the header (settings and QEMU's
 * outcome) and the samples, oldest first. The files keep QEMU's own status words; they are read
 * into the neutral status here.
 */
record RecordedTrace(String name, JsonNode header, List<MigrationSample> samples) {

    private static final ObjectMapper JSON = new ObjectMapper();

    static RecordedTrace load(String name) {
        try (InputStream in = resource("/migration-traces/" + name + ".jsonl")) {
            String[] lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n");
            List<MigrationSample> samples = new ArrayList<>();
            for (int i = 1; i < lines.length; i++) {
                ObjectNode sample = (ObjectNode) JSON.readTree(lines[i]);
                sample.put("status", QueryMigrate.status(sample.path("status").asText()).name());
                samples.add(JSON.treeToValue(sample, MigrationSample.class));
            }
            return new RecordedTrace(name, JSON.readTree(lines[0]), List.copyOf(samples));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What the policy would have said at each sample, seeing everything up to and including it. */
    List<PolicyAction> replay(MigrationSettings settings) {
        List<PolicyAction> actions = new ArrayList<>();
        for (int i = 1; i <= samples.size(); i++) {
            actions.add(MigrationPolicy.decide(settings, samples.subList(0, i)));
        }
        return actions;
    }

    private static InputStream resource(String path) throws IOException {
        InputStream in = RecordedTrace.class.getResourceAsStream(path);
        if (in == null) {
            throw new IOException("no test resource " + path + "; record it with TraceRecorder");
        }
        return in;
    }
}
