package io.kubevmm.operator.scheduling;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class SchedulerTest {
    static final long GI = 1L << 30;

    static NodeCandidate node(String name, long memFree) {
        return new NodeCandidate(name, Map.of("zone", name.endsWith("a") ? "east" : "west"), false, true, 8, 8 * GI, 0, 8 * GI - memFree);
    }

    final Scheduler spread = new Scheduler(Scheduler.Strategy.SPREAD);

    @Test
    void spreadPicksTheNodeWithTheMostFreeMemory() {
        var decision = spread.place(new Scheduler.Request(1, GI, null), List.of(node("node-a", 2 * GI), node("node-b", 5 * GI)));
        assertThat(decision.node()).contains("node-b");
    }

    @Test
    void packPicksTheFullestNodeThatStillFits() {
        var decision = new Scheduler(Scheduler.Strategy.PACK)
                .place(new Scheduler.Request(1, GI, null), List.of(node("node-a", 2 * GI), node("node-b", 5 * GI)));
        assertThat(decision.node()).contains("node-a");
    }

    @Test
    void whenNothingFitsEveryNodeSaysWhy() {
        var cordoned = new NodeCandidate("node-c", Map.of(), true, true, 8, 8 * GI, 0, 0);
        var dead = new NodeCandidate("node-d", Map.of(), false, false, 8, 8 * GI, 0, 0);
        var decision = spread.place(new Scheduler.Request(1, 4 * GI, null),
                List.of(node("node-a", 2 * GI), node("node-b", GI), cordoned, dead));
        assertThat(decision.placed()).isFalse();
        assertThat(decision.message()).isEqualTo(
                "0/4 nodes are available: 2 insufficient memory, 1 node runtime not responding (lease expired), 1 node(s) cordoned (unschedulable).");
    }

    @Test
    void nodeSelectorMustMatchTheNodesLabels() {
        var decision = spread.place(new Scheduler.Request(1, GI, Map.of("zone", "east")),
                List.of(node("node-a", 2 * GI), node("node-b", 5 * GI)));
        assertThat(decision.node()).contains("node-a");
    }

    @Test
    void cpuIsCountedToo() {
        var busy = new NodeCandidate("node-a", Map.of(), false, true, 2, 8 * GI, 2, 0);
        assertThat(spread.place(new Scheduler.Request(1, GI, null), List.of(busy)).message())
                .isEqualTo("0/1 nodes are available: 1 insufficient cpu.");
    }

    @Test
    void anEmptyClusterSaysToStartANodeRuntime() {
        assertThat(spread.place(new Scheduler.Request(1, GI, null), List.of()).message()).contains("no VMNode is registered");
    }

    @Test
    void aVmWithDisksStartsOnTheNodeThatHoldsThemEvenWhenAnotherHasMoreRoom() {
        var decision = spread.place(new Scheduler.Request(1, GI, null).onDiskNode("node-a"),
                List.of(node("node-a", 2 * GI), node("node-b", 5 * GI)));
        assertThat(decision.node()).contains("node-a");
    }

    @Test
    void whenTheDiskNodeCannotTakeItTheVmWaitsSayingWhichNodeAndWhy() {
        var full = spread.place(new Scheduler.Request(1, 4 * GI, null).onDiskNode("node-a"),
                List.of(node("node-a", 2 * GI), node("node-b", 5 * GI)));
        assertThat(full.placed()).isFalse();
        assertThat(full.message()).startsWith("its disks are on node node-a, which has insufficient memory free");

        var cordoned = new NodeCandidate("node-a", Map.of(), true, true, 8, 8 * GI, 0, 0);
        assertThat(spread.place(new Scheduler.Request(1, GI, null).onDiskNode("node-a"), List.of(cordoned, node("node-b", 5 * GI)))
                .message()).startsWith("its disks are on node node-a, which is cordoned");

        var dead = new NodeCandidate("node-a", Map.of(), false, false, 8, 8 * GI, 0, 0);
        assertThat(spread.place(new Scheduler.Request(1, GI, null).onDiskNode("node-a"), List.of(dead, node("node-b", 5 * GI)))
                .message()).startsWith("its disks are on node node-a, which is not responding");

        assertThat(spread.place(new Scheduler.Request(1, GI, null).onDiskNode("node-z"), List.of(node("node-b", 5 * GI)))
                .message()).startsWith("its disks are on node node-z, which is not registered (no VMNode node-z)");
    }
}
