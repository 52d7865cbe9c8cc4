package io.kubevmm.operator.migration;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kubevmm.api.v1alpha1.VMMigrationSpec;
import io.kubevmm.api.v1alpha1.VMMigrationStatus;
import io.kubevmm.api.v1alpha1.VMMigrationStatus.Phase;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A sequence of facts as the two node runtimes write them into a VMMigration
 * ({@code src/test/resources/migration-facts/*.json}: each entry one merge of {@code status.target}
 * or {@code status.source}, or the user setting {@code spec.cancel}), replayed through
 * {@link MigrationPhases#next} the way {@link MigrationReconciler} runs it: after every fact the
 * operator reconciles until it has nothing more to write, and each write is applied to the stored
 * status (one field replaced whole per field it owns).
 */
final class FactTrace {
    static final Instant T0 = Instant.parse("2026-12-03T10:00:00Z");
    static final Duration TARGET_READY_TIMEOUT = Duration.ofSeconds(90);
    private static final ObjectMapper JSON = new ObjectMapper().setSerializationInclusion(JsonInclude.Include.NON_NULL)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    /** What the operator did, in order: a phase change, a figures-only write, labelling, or the VMI's hand-over. */
    record Did(String what, Phase phase, String reason, String message) { }

    final JsonNode trace;
    final VMMigrationSpec spec;
    VMMigrationStatus status;
    boolean labelled;
    /** The VMI as the operator reads it: the node its spec names, the node that wrote its status. */
    MigrationPhases.Instance instance = new MigrationPhases.Instance("node-a", "node-a");
    /** Whether the target node writes the VMI's status as soon as it is handed over (false: it is slow). */
    boolean targetReports = true;
    private int position;
    final List<Did> log = new ArrayList<>();

    private FactTrace(JsonNode trace) {
        this.trace = trace;
        this.spec = JSON.convertValue(trace.get("spec"), VMMigrationSpec.class);
    }

    static FactTrace load(String name) {
        try (InputStream in = FactTrace.class.getResourceAsStream("/migration-facts/" + name + ".json")) {
            if (in == null) {
                throw new IllegalArgumentException("no trace " + name);
            }
            return new FactTrace(JSON.readTree(in));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Replays every fact; returns this for assertions on {@link #log} and {@link #status}. */
    FactTrace replay() {
        return replayUntil(Double.MAX_VALUE);
    }

    /** Replays the facts not replayed yet up to {@code seconds} into the trace. */
    FactTrace replayUntil(double seconds) {
        JsonNode facts = trace.get("facts");
        while (position < facts.size() && facts.get(position).get("at").asDouble() <= seconds) {
            JsonNode fact = facts.get(position++);
            apply(fact);
            reconcile(at(fact.get("at").asDouble()));
        }
        return this;
    }

    static Instant at(double seconds) {
        return T0.plusMillis(Math.round(seconds * 1000));
    }

    void apply(JsonNode fact) {
        if (fact.has("cancel")) {
            spec.setCancel(fact.get("cancel").asBoolean());
        }
        for (String block : List.of("source", "target")) {
            if (fact.has(block)) {
                ObjectNode stored = status == null ? JSON.createObjectNode() : JSON.valueToTree(status);
                ObjectNode merged = stored.has(block) ? (ObjectNode) stored.get(block) : stored.putObject(block);
                merged.setAll((ObjectNode) fact.get(block));
                status = JSON.convertValue(stored, VMMigrationStatus.class);
            }
        }
    }

    /** One reconcile after another until the operator has nothing to write; returns the last step. */
    MigrationPhases.Step reconcile(Instant now) {
        for (int i = 0; i < 10; i++) {
            var facts = new MigrationPhases.Facts(labelled, now, TARGET_READY_TIMEOUT, 1, instance);
            MigrationPhases.Step step = MigrationPhases.next(spec, status, facts);
            switch (step) {
                case MigrationPhases.Step.Admit a -> {
                    JsonNode admit = trace.get("admit");
                    write(MigrationPhases.scheduled(status, facts, admit.get("sourceNode").asText(), admit.get("targetNode").asText(),
                            admit.get("timeoutSeconds").asLong(), "admitted"));
                    labelled = true;
                    log.add(new Did("label", null, null, null));
                }
                case MigrationPhases.Step.Label l -> {
                    labelled = true;
                    log.add(new Did("label", null, null, null));
                }
                case MigrationPhases.Step.Write w -> write(w);
                case MigrationPhases.Step.HandOver h -> {
                    log.add(new Did("handOver", null, null, h.target()));
                    instance = new MigrationPhases.Instance(h.target(), targetReports ? h.target() : instance.reportedBy());
                }
                case MigrationPhases.Step.Wait w -> {
                    return w;
                }
            }
        }
        throw new AssertionError("the operator keeps writing without a new fact: " + log);
    }

    void write(MigrationPhases.Step step) {
        if (!(step instanceof MigrationPhases.Step.Write w)) {
            return;
        }
        ObjectNode stored = status == null ? JSON.createObjectNode() : JSON.valueToTree(status);
        stored.setAll((ObjectNode) JSON.valueToTree(w.status()));
        status = JSON.convertValue(stored, VMMigrationStatus.class);
        var t = w.transition();
        log.add(t == null ? new Did("figures", w.status().getPhase(), null, null) : new Did("phase", t.to(), t.reason(), t.message()));
    }

    List<Phase> phases() {
        return log.stream().filter(d -> d.what().equals("phase")).map(Did::phase).toList();
    }

    List<String> actions() {
        return log.stream().filter(d -> !d.what().equals("figures"))
                .map(d -> d.what().equals("phase") ? d.phase().name() : d.what()).toList();
    }
}
