package io.kubevmm.e2e;

import io.fabric8.kubernetes.api.model.Event;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.v1alpha1.HighAvailabilitySpec;
import io.kubevmm.api.v1alpha1.VMNode;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VmPhase;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A node dies (its node runtime killed with SIGKILL, its guests gone: the fence guard kills the
 * highly available one, the test the other): the VM of highAvailability mode Restart boots on the
 * other node within lease + fence margin + boot time, never while its old copy runs; the mode None
 * VM stays down with a condition saying why; and the dead node, started again, removes the old
 * copy without starting it while its mode None VM runs there again. Defaults of docs/ha.md: lease
 * 15 s, renewal every 3 s, fence-after 10 s, fence margin 2 s.
 */
class NodeLossSystemTest extends ClusterTestBase {
    static final Duration LEASE = Duration.ofSeconds(15);
    static final Duration FENCE_AFTER = Duration.ofSeconds(10);
    static final Duration MARGIN = Duration.ofSeconds(2);

    @Override
    String clusterDirName() {
        return "node-loss-test-cluster";
    }

    @Test
    void aRestartVmBootsOnTheOtherNodeAModeNoneVmStaysDownAndTheDeadNodeStartsNeitherCopyAgain() throws Exception {
        assumeLocalCluster();
        VirtualMachine restart = vm("ha-restart", "256Mi", "idle");
        HighAvailabilitySpec ha = new HighAvailabilitySpec();
        ha.setMode(HighAvailabilitySpec.Mode.Restart);
        restart.getSpec().setHighAvailability(ha);
        Instant created = Instant.now();
        client.resource(restart).create();
        awaitPhase("ha-restart", VmPhase.Running, true);
        Duration firstBoot = Duration.between(created, Instant.now());
        String lost = vmi("ha-restart").getSpec().getNodeName();
        String other = lost.equals(LocalCluster.nodeName(0)) ? LocalCluster.nodeName(1) : LocalCluster.nodeName(0);
        assertThat(vmDir(lost, "ha-restart").resolve("fence-on-node-loss")).as("the fence marker of a Restart VM").exists();

        // Mode None (the default), on the same node.
        VirtualMachine none = vm("ha-none", "256Mi", "idle");
        none.getSpec().setNodeSelector(Map.of("kubevmm.io/node", lost));
        client.resource(none).create();
        awaitPhase("ha-none", VmPhase.Running, true);
        assertThat(vmDir(lost, "ha-none").resolve("fence-on-node-loss")).as("mode None is never fenced").doesNotExist();
        awaitTickAbove("ha-restart", 1);
        ProcessHandle oldCopy = liveQemus("ha-restart").getFirst();
        ProcessHandle noneQemu = liveQemus("ha-none").getFirst();

        // Node death: the node runtime goes at once; its guests die with the node (the guard kills the Restart one).
        cluster.kill9(lost);
        Instant killed = Instant.now();
        noneQemu.destroyForcibly();
        await().atMost(FENCE_AFTER.plusSeconds(8)).pollInterval(Duration.ofMillis(100))
                .until(() -> !Processes.running(oldCopy));
        Instant oldCopyDead = Instant.now();
        assertThat(Files.readString(cluster.home().nodeStateDir(lost).resolve("fence-guard.log")))
                .as("the fence guard killed the old copy").contains("fenced default_ha-restart: killed QEMU " + oldCopy.pid());

        // The Restart VM: running and ready on the other node within lease + margin + boot time.
        Duration allowed = LEASE.plus(MARGIN).plus(firstBoot).plusSeconds(30);
        await().atMost(allowed).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() -> {
            VirtualMachine vm = get("ha-restart");
            return other.equals(vmi("ha-restart").getStatus().getNodeName()) && vm.getStatus().getPhase() == VmPhase.Running
                    && Conditions.isTrue(vm.getStatus().getConditions(), "Ready");
        });
        Duration failover = Duration.between(killed, Instant.now());
        System.out.printf("failover of ha-restart: %d ms after the kill (old copy dead after %d ms; first boot took %d ms)%n",
                failover.toMillis(), Duration.between(killed, oldCopyDead).toMillis(), firstBoot.toMillis());
        List<ProcessHandle> copies = liveQemus("ha-restart");
        assertThat(copies).as("one copy of ha-restart").hasSize(1);
        Instant newCopyStarted = copies.getFirst().info().startInstant().orElseThrow();
        assertThat(newCopyStarted).as("the new copy started after the old one was dead").isAfter(oldCopyDead.minusMillis(100));
        assertThat(Duration.between(killed, newCopyStarted)).as("and not before the lease expired + the fence margin")
                .isGreaterThanOrEqualTo(LEASE.plus(MARGIN).minusSeconds(3)); // the last renewal was up to 3 s before the kill
        assertThat(vmi("ha-restart").getSpec().getNodeName()).isEqualTo(other);
        assertThat(console("ha-restart")).as("the guest's console on node " + other).contains("KUBEVMM-GUEST-READY");
        assertThat(vmi("ha-restart").getStatus().getConsoleLog()).startsWith(cluster.home().nodeStateDir(other).toString());
        assertThat(events("ha-restart")).as("Events of ha-restart").anyMatch(e -> e.getReason().equals("FailedOver")
                && e.getMessage().contains("restarting on node " + other));

        // The mode None VM stays down, and says so.
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            var ready = condition(get("ha-none"), "Ready");
            assertThat(ready.getStatus()).isEqualTo("False");
            assertThat(ready.getReason()).isEqualTo("NodeLost");
            assertThat(ready.getMessage()).contains("node " + lost + " is lost")
                    .contains("stays down: highAvailability.mode is None");
        });
        assertThat(vmi("ha-none").getSpec().getNodeName()).isEqualTo(lost);
        assertThat(liveQemus("ha-none")).isEmpty();
        var nodeReady = Conditions.find(client.resources(VMNode.class).withName(lost).get().getStatus().getConditions(), "Ready").orElseThrow();
        assertThat(nodeReady.getStatus()).isEqualTo("False");
        assertThat(nodeReady.getReason()).isEqualTo("LeaseExpired");
        assertThat(events("ha-none")).anyMatch(e -> e.getReason().equals("NodeLost"));

        // The lost node returns: the old copy's state goes without it starting; the mode None VM runs there again.
        cluster.restart(lost);
        Path oldDir = vmDir(lost, "ha-restart");
        await().atMost(Duration.ofSeconds(60)).until(() -> !Files.exists(oldDir));
        awaitPhase("ha-none", VmPhase.Running, true);
        assertThat(vmi("ha-none").getStatus().getNodeName()).isEqualTo(lost);
        long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < until) {
            assertThat(liveQemus("ha-restart")).as("copies of ha-restart after node " + lost + " returned").hasSize(1);
            Thread.sleep(250);
        }
        assertThat(vmi("ha-restart").getStatus().getNodeName()).isEqualTo(other);
        assertThat(Files.readString(cluster.home().log(lost), StandardCharsets.UTF_8))
                .contains("default_ha-restart was restarted on node " + other);
        await().atMost(Duration.ofSeconds(30)).until(() -> client.leases().inNamespace("kubevmm-system")
                .withName("kubevmm-node-" + lost).get().getMetadata().getAnnotations() == null
                || !client.leases().inNamespace("kubevmm-system").withName("kubevmm-node-" + lost).get()
                        .getMetadata().getAnnotations().containsKey("kubevmm.io/fenced-at"));

        deleteAndAwaitGone("ha-restart");
        deleteAndAwaitGone("ha-none");
    }

    /**
     * A partition: node X's runtime frozen (SIGSTOP) and X cut from the API server, its guest still
     * running. The fence guard, which needs neither, kills the guest once the heartbeat is
     * fence-after old; the operator restarts the VM on the other node only after lease + margin.
     *
     * <p>The proof of no overlap is one sampler thread that every ~50 ms first asks whether the old
     * QEMU still runs (/proc: a zombie, which the frozen runtime cannot reap, runs nothing), then
     * whether the new copy exists (a QEMU of the VM under the other node's state dir, or its
     * console file there). The checks of a sample happen in that order, so if the first sample
     * seeing the old QEMU ended at {@code a} comes strictly before the first sample seeing the new
     * copy, the sample before that one saw no new copy at some {@code b > a}: the old guest ended
     * by {@code a} and the new one started after {@code b}. The console files say the same on
     * the wall clock: the old console's last write time is before {@code a} and it never grows
     * after, and the new console first appears after {@code b}. No assumption about how long either
     * takes, and 50 ms sampling only has to resolve a gap the timing argument of docs/ha.md makes
     * seconds long (guard at fence-after + 2 s, move at lease + margin).
     */
    @Test
    void aPartitionedFrozenNodeStopsItsGuestBeforeTheCopyElsewhereStartsAndDoesNotRestartItWhenItResumes() throws Exception {
        assumeLocalCluster();
        org.junit.jupiter.api.Assumptions.assumeTrue(cluster.separateHosts(), "cutting a node's link needs separate hosts (root)");
        String name = "ha-partition";
        VirtualMachine restart = vm(name, "256Mi", "idle");
        HighAvailabilitySpec ha = new HighAvailabilitySpec();
        ha.setMode(HighAvailabilitySpec.Mode.Restart);
        restart.getSpec().setHighAvailability(ha);
        client.resource(restart).create();
        awaitPhase(name, VmPhase.Running, true);
        String frozen = vmi(name).getSpec().getNodeName();
        String other = frozen.equals(LocalCluster.nodeName(0)) ? LocalCluster.nodeName(1) : LocalCluster.nodeName(0);
        awaitTickAbove(name, 1);
        ProcessHandle oldCopy = liveQemus(name).getFirst();
        Path oldConsole = vmDir(frozen, name).resolve("console.log");
        Path newDir = vmDir(other, name);
        Path newConsole = newDir.resolve("console.log");
        assertThat(newDir).as("no state of " + name + " on node " + other + " before the partition").doesNotExist();
        long runtimePid = Long.parseLong(Files.readString(cluster.home().pidFile(frozen)).strip());
        assertThat(Files.readString(Path.of("/proc", Long.toString(runtimePid), "cmdline"))).as("the pidfile names the node runtime's JVM")
                .contains("quarkus-run.jar");

        Sampler sampler = new Sampler(oldCopy, oldConsole, newDir, newConsole);
        Thread sampling = Thread.ofPlatform().name("partition-sampler").daemon().start(sampler);
        Instant partitioned;
        String guardLog;
        try {
            signal("STOP", runtimePid);
            cluster.nodeLink(frozen, false);
            partitioned = Instant.now();

            // The VM runs and is Ready on the other node.
            await().atMost(LEASE.plus(MARGIN).plus(BOOT)).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() -> {
                VirtualMachine vm = get(name);
                return other.equals(vmi(name).getStatus().getNodeName()) && vm.getStatus().getPhase() == VmPhase.Running
                        && Conditions.isTrue(vm.getStatus().getConditions(), "Ready");
            });
            await().atMost(Duration.ofSeconds(30)).until(() -> sampler.newReady != null);
            // Read before the runtime resumes: it removes the old copy's dir (and may start a new guard).
            guardLog = Files.readString(cluster.home().nodeStateDir(frozen).resolve("fence-guard.log"));
        } finally {
            sampler.stop = true;
            sampling.join(5_000);
            try {
                cluster.nodeLink(frozen, true);
            } finally {
                signal("CONT", runtimePid);
            }
        }
        assertThat(sampler.error).as("the sampler's own failure").isNull();
        assertThat(sampler.oldEnded).as("the old copy was seen ended").isNotNull();
        assertThat(sampler.newSeen).as("the new copy was seen").isNotNull();
        assertThat(sampler.lastNewAbsent).as("the new copy was absent when sampling began").isNotNull();
        System.out.printf("partition of %s on %s: old copy ended by %d ms after the freeze (sample %d), the new copy was"
                        + " still absent %d ms after the freeze (sample %d) and first seen at %d ms (sample %d), ready at %d ms;"
                        + " gap at least %d ms%n", name, frozen,
                Duration.between(partitioned, sampler.oldEnded.at()).toMillis(), sampler.oldEnded.index(),
                Duration.between(partitioned, sampler.lastNewAbsent.at()).toMillis(), sampler.lastNewAbsent.index(),
                Duration.between(partitioned, sampler.newSeen.at()).toMillis(), sampler.newSeen.index(),
                Duration.between(partitioned, sampler.newReady).toMillis(),
                Duration.between(sampler.oldEnded.at(), sampler.lastNewAbsent.at()).toMillis());
        assertThat(sampler.oldEnded.index()).as("the first sample with the old copy ended comes strictly before the first with the new copy")
                .isLessThan(sampler.newSeen.index());
        assertThat(sampler.lastNewAbsent.index()).isGreaterThanOrEqualTo(sampler.oldEnded.index());
        assertThat(sampler.lastNewAbsent.at()).as("the new copy was still absent after the old one had ended").isAfter(sampler.oldEnded.at());
        assertThat(sampler.oldLastWrite).as("the old console's last write (it ticked until killed)").isBefore(sampler.oldEnded.at())
                .isAfter(partitioned.minusSeconds(2));
        assertThat(sampler.oldConsoleGrewAfterEnd).as("the old console grew after its QEMU was seen ended").isFalse();
        assertThat(guardLog).as("the fence guard killed the old copy").contains("fenced default_" + name + ": killed QEMU " + oldCopy.pid());
        assertThat(Duration.between(partitioned, sampler.oldEnded.at())).as("the guard acted within fence-after + 2 s (+ polling)")
                .isLessThan(FENCE_AFTER.plusSeconds(4));
        assertThat(console(name)).contains("KUBEVMM-GUEST-READY");

        // The runtime resumes, reconnected: it removes the old copy's state and never starts it.
        Path oldDir = vmDir(frozen, name);
        long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < until) {
            assertThat(qemusOn(frozen, name)).as("QEMUs of " + name + " on node " + frozen + " after it resumed").isEmpty();
            assertThat(liveQemus(name)).as("copies of " + name).hasSize(1);
            Thread.sleep(250);
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> !Files.exists(oldDir));
        assertThat(qemusOn(frozen, name)).isEmpty();
        assertThat(qemusOn(other, name)).as("the one copy runs on node " + other).hasSize(1);
        assertThat(vmi(name).getStatus().getNodeName()).isEqualTo(other);
        assertThat(Files.readString(cluster.home().log(frozen), StandardCharsets.UTF_8))
                .contains("default_" + name + " was restarted on node " + other);
        // The resumed node is a healthy node again for the next test: Ready, its fence mark lifted.
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> Conditions.isTrue(
                client.resources(VMNode.class).withName(frozen).get().getStatus().getConditions(), "Ready"));
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            var annotations = client.leases().inNamespace("kubevmm-system").withName("kubevmm-node-" + frozen).get()
                    .getMetadata().getAnnotations();
            return annotations == null || !annotations.containsKey("kubevmm.io/fenced-at");
        });
        deleteAndAwaitGone(name);
    }

    /** One look of the sampler: its number and the wall-clock time it was taken at. */
    record Sample(long index, Instant at) { }

    /**
     * Looks every ~50 ms at the old copy, then at the new one, in that order (see the partition
     * test's javadoc for why the order makes the proof).
     */
    final class Sampler implements Runnable {
        private final ProcessHandle oldCopy;
        private final Path oldConsole;
        private final Path newDir;
        private final Path newConsole;
        volatile boolean stop;
        volatile Sample oldEnded;
        volatile Sample lastNewAbsent;
        volatile Sample newSeen;
        volatile Instant newReady;
        volatile boolean oldConsoleGrewAfterEnd;
        /** The old console's modification time at the last sample (the resumed runtime deletes the file). */
        volatile Instant oldLastWrite;
        volatile Throwable error;

        Sampler(ProcessHandle oldCopy, Path oldConsole, Path newDir, Path newConsole) {
            this.oldCopy = oldCopy;
            this.oldConsole = oldConsole;
            this.newDir = newDir;
            this.newConsole = newConsole;
        }

        @Override
        public void run() {
            long oldSizeAtEnd = -1;
            try {
                for (long i = 0; !stop; i++) {
                    Instant oldLook = Instant.now();
                    boolean oldRuns = Processes.running(oldCopy);
                    long oldSize = Files.size(oldConsole);
                    oldLastWrite = Files.getLastModifiedTime(oldConsole).toInstant();
                    if (!oldRuns && oldEnded == null) {
                        oldEnded = new Sample(i, oldLook);
                        oldSizeAtEnd = oldSize;
                    } else if (oldEnded != null && oldSize != oldSizeAtEnd) {
                        oldConsoleGrewAfterEnd = true;
                    }
                    Instant newLook = Instant.now();
                    boolean newExists = Files.exists(newConsole) || !qemusUnder(newDir).isEmpty();
                    if (newExists && newSeen == null) {
                        newSeen = new Sample(i, newLook);
                    } else if (!newExists) {
                        lastNewAbsent = new Sample(i, newLook);
                    }
                    if (newSeen != null && newReady == null && Files.exists(newConsole)
                            && Files.readString(newConsole, StandardCharsets.ISO_8859_1).contains("KUBEVMM-GUEST-READY")) {
                        newReady = Instant.now();
                    }
                    Thread.sleep(50);
                }
            } catch (Throwable e) {
                error = e;
            }
        }
    }

    /** Sends SIGSTOP or SIGCONT ({@code kill -STOP}): ProcessHandle knows only TERM and KILL. */
    static void signal(String signal, long pid) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).redirectErrorStream(true).start();
        String out = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(kill.waitFor()).as("kill -" + signal + " " + pid + ": " + out).isZero();
    }

    List<ProcessHandle> qemusOn(String node, String vm) {
        return qemusUnder(vmDir(node, vm));
    }

    /** QEMUs of this VM whose state dir is {@code dir}. */
    List<ProcessHandle> qemusUnder(Path dir) {
        return cluster.qemus().running().stream().filter(q -> Path.of(q.stateDir()).equals(dir.toAbsolutePath().normalize()))
                .map(ClusterQemus.Qemu::process).toList();
    }

    Path vmDir(String node, String vm) {
        return cluster.home().nodeStateDir(node).resolve("vms/default_" + vm);
    }

    List<Event> events(String name) {
        return client.v1().events().inNamespace("default").list().getItems().stream()
                .filter(e -> name.equals(e.getInvolvedObject().getName())).toList();
    }

    /** Every QEMU process on this machine serving this VM in this cluster. */
    List<ProcessHandle> liveQemus(String vm) {
        return cluster.qemus().running().stream().filter(q -> q.stateDir().endsWith("/vms/default_" + vm))
                .map(ClusterQemus.Qemu::process).toList();
    }
}
