package io.kubevmm.operator.snapshot;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Condition;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.v1alpha1.SnapshotArtifact;
import io.kubevmm.api.v1alpha1.VMSnapshotSpec;
import io.kubevmm.api.v1alpha1.VMSnapshotStatus;
import io.kubevmm.api.v1alpha1.VMSnapshotStatus.Phase;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The operator's VMSnapshot phase machine replayed over sequences of facts shaped as the node
 * taking the snapshot writes them into {@code status.node}
 * ({@code src/test/resources/snapshot-facts/*.json}): after each fact the operator reconciles until
 * it has nothing to write, and each write replaces the fields it owns.
 */
class SnapshotPhasesTest {
    private static final Instant T0 = Instant.parse("2026-12-03T10:00:00Z");
    private static final Duration NODE_START_TIMEOUT = Duration.ofSeconds(120);
    private static final ObjectMapper JSON = new ObjectMapper().setSerializationInclusion(JsonInclude.Include.NON_NULL)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    /** One trace being replayed: the stored status and the phase changes with their Event reasons. */
    static final class Replay {
        final JsonNode trace;
        final VMSnapshotSpec spec;
        VMSnapshotStatus status;
        final List<SnapshotPhases.Transition> transitions = new ArrayList<>();

        Replay(String name) throws IOException {
            try (InputStream in = SnapshotPhasesTest.class.getResourceAsStream("/snapshot-facts/" + name + ".json")) {
                trace = JSON.readTree(in);
            }
            spec = JSON.convertValue(trace.get("spec"), VMSnapshotSpec.class);
        }

        Replay replay() {
            for (JsonNode fact : trace.get("facts")) {
                if (fact.has("node")) {
                    ObjectNode stored = JSON.valueToTree(status);
                    ObjectNode node = stored.has("node") ? (ObjectNode) stored.get("node") : stored.putObject("node");
                    node.setAll((ObjectNode) fact.get("node"));
                    status = JSON.convertValue(stored, VMSnapshotStatus.class);
                }
                reconcile(T0.plusMillis(Math.round(fact.get("at").asDouble() * 1000)));
            }
            return this;
        }

        SnapshotPhases.Step reconcile(Instant now) {
            for (int i = 0; i < 10; i++) {
                var facts = new SnapshotPhases.Facts(now, NODE_START_TIMEOUT, 1);
                var step = SnapshotPhases.next(spec, status, facts);
                if (step instanceof SnapshotPhases.Step.Admit) {
                    step = SnapshotPhases.scheduled(spec, status, facts, trace.get("node").asText());
                }
                if (!(step instanceof SnapshotPhases.Step.Write w)) {
                    return step;
                }
                ObjectNode stored = status == null ? JSON.createObjectNode() : JSON.valueToTree(status);
                stored.setAll((ObjectNode) JSON.valueToTree(w.status()));
                status = JSON.convertValue(stored, VMSnapshotStatus.class);
                transitions.add(w.transition());
            }
            throw new AssertionError("the operator keeps writing without a new fact: " + transitions);
        }

        List<String> reasons() {
            return transitions.stream().map(SnapshotPhases.Transition::reason).toList();
        }
    }

    @Test
    void aFullStateSnapshotIsScheduledStartedAndReadyWithWhatTheNodeMeasured() throws IOException {
        Replay r = new Replay("fullstate").replay();

        assertThat(r.reasons()).containsExactly("Scheduled", "Started", "Ready");
        assertThat(r.transitions).extracting(SnapshotPhases.Transition::to).containsExactly(Phase.Pending, Phase.InProgress, Phase.Ready);
        VMSnapshotStatus s = r.status;
        assertThat(s.getPhase()).isEqualTo(Phase.Ready);
        assertThat(s.getReadyToUse()).isTrue();
        assertThat(s.getNodeName()).isEqualTo("node-b");
        assertThat(s.getPauseMillis()).isEqualTo(590);
        assertThat(s.getDurationMillis()).isEqualTo(1790);
        assertThat(s.getSizeBytes()).isEqualTo(270532608);
        assertThat(s.getCreationTime()).isEqualTo("2026-12-03T10:00:00.350Z");
        assertThat(s.getContents()).extracting(SnapshotArtifact::getName).containsExactly("state", "manifest.json");
        assertThat(s.getConditions()).extracting(Condition::getType).containsExactlyInAnyOrder("Scheduled", "Ready");
        assertThat(Conditions.isTrue(s.getConditions(), "Ready")).isTrue();
        assertThat(r.transitions.getLast().message()).contains("guest paused 590 ms").contains("took 1790 ms");
        assertThat(r.reconcile(T0.plusSeconds(600))).isEqualTo(new SnapshotPhases.Step.Wait(0));
    }

    @Test
    void whileTheNodeTakesItTheSnapshotIsBeingTakenForAdmission() throws IOException {
        Replay r = new Replay("fullstate");
        JsonNode facts = r.trace.get("facts");
        r.reconcile(T0);
        assertThat(SnapshotPhases.beingTaken(r.status)).as("handed over, not started").isFalse();

        // The node's fact, before the operator has stored InProgress.
        ObjectNode stored = JSON.valueToTree(r.status);
        stored.set("node", facts.get(1).get("node"));
        r.status = JSON.convertValue(stored, VMSnapshotStatus.class);
        assertThat(SnapshotPhases.beingTaken(r.status)).isTrue();

        r.replay();
        assertThat(SnapshotPhases.beingTaken(r.status)).isFalse();
    }

    @Test
    void aNodeThatGivesUpFailsTheSnapshotWithItsReason() throws IOException {
        Replay r = new Replay("failed").replay();

        assertThat(r.reasons()).containsExactly("Scheduled", "Started", "SnapshotFailed");
        assertThat(r.status.getPhase()).isEqualTo(Phase.Failed);
        assertThat(r.status.getReadyToUse()).isFalse();
        assertThat(r.status.getError()).startsWith("SnapshotFailed: VM web has no running emulator").endsWith("left as it was");
        assertThat(r.transitions.getLast().warning()).isTrue();
        Condition ready = Conditions.find(r.status.getConditions(), "Ready").orElseThrow();
        assertThat(ready.getStatus()).isEqualTo("False");
        assertThat(ready.getReason()).isEqualTo("SnapshotFailed");
    }

    @Test
    void aNodeThatFinishesBeforeTheOperatorLooksGoesStraightToReady() throws IOException {
        Replay r = new Replay("quick").replay();

        assertThat(r.transitions).extracting(SnapshotPhases.Transition::to).containsExactly(Phase.Pending, Phase.Ready);
        assertThat(r.status.getContents()).singleElement().extracting(SnapshotArtifact::getSizeBytes).isEqualTo(196608L);
    }

    @Test
    void aNodeThatNeverStartsFailsTheSnapshotAfterTheTimeout() throws IOException {
        Replay r = new Replay("fullstate");
        r.reconcile(T0);
        assertThat(r.reconcile(T0.plusSeconds(119))).isEqualTo(new SnapshotPhases.Step.Wait(SnapshotPhases.RECHECK_MILLIS));
        r.reconcile(T0.plusSeconds(121));

        assertThat(r.status.getPhase()).isEqualTo(Phase.Failed);
        assertThat(r.status.getError()).isEqualTo("NodeNotResponding: node node-b did not start the snapshot within 120s; "
                + "delete this VMSnapshot and create it again");
    }
}
