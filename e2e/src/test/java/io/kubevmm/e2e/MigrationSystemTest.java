package io.kubevmm.e2e;

import io.kubevmm.api.v1alpha1.DiskSpec;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VMMigrationSpec;
import io.kubevmm.api.v1alpha1.VMMigrationSpec.Strategy;
import io.kubevmm.api.v1alpha1.VMMigrationStatus.Phase;
import io.kubevmm.api.v1alpha1.VMNode;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VmPhase;
import io.kubevmm.api.v1alpha1.VmState;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Live migration between two node runtimes (separate processes), real QEMU guests on both, the
 * stream through the authenticated tunnel. The guest's own output is the evidence: its tick
 * count continues across nodes and its memory check keeps passing.
 */
class MigrationSystemTest extends ClusterTestBase {

    @Override
    String clusterDirName() {
        return "migration-test-cluster";
    }

    String node(String vm) {
        return vmi(vm).getSpec().getNodeName();
    }

    List<Integer> ticks(String vm) throws Exception {
        return TICK.matcher(console(vm)).results().map(r -> Integer.parseInt(r.group(1))).toList();
    }

    /** The guest keeps passing its memory check where it now runs, and never reported bad memory. */
    void assertMemoryIntact(String vm) throws Exception {
        int pass = lastMemcheckPass(vm);
        await().atMost(BOOT).pollInterval(Duration.ofMillis(300)).ignoreExceptions().until(() -> lastMemcheckPass(vm) > pass);
        assertThat(console(vm)).doesNotContain("memcheck BAD");
    }

    /** Migrates, then checks the guest continued on the target without a reboot. */
    VMMigration migrateAndCheckContinuity(String vm, String migrationName, Consumer<VMMigrationSpec> settings) throws Exception {
        String from = node(vm);
        int before = lastTick(vm);
        VMMigration done = awaitOutcome(migration(migrationName, vm, settings).getMetadata().getName());
        assertThat(done.getStatus().getPhase()).as("outcome of %s: %s", migrationName, done.getStatus().getFailureReason())
                .isEqualTo(Phase.Succeeded);
        assertThat(node(vm)).isNotEqualTo(from).isEqualTo(done.getStatus().getTargetNode());
        awaitPhase(vm, VmPhase.Running, true);
        awaitTickAbove(vm, before + 1);
        List<Integer> onTarget = ticks(vm);
        // The count goes on from where it was (a reboot would start again at 1); the guest's clock may
        // catch up after a throttled or post-copy move, so it can run ahead of the wall time that passed.
        assertThat(onTarget.getFirst()).as("first tick on %s continues the count from %s (%d before)", node(vm), from, before)
                .isGreaterThanOrEqualTo(before);
        for (int i = 1; i < onTarget.size(); i++) {
            assertThat(onTarget.get(i)).as("ticks on the target are consecutive").isEqualTo(onTarget.get(i - 1) + 1);
        }
        assertThat(console(vm)).as("no second boot").doesNotContain("KUBEVMM-GUEST-READY");
        return done;
    }

    @Test
    void anIdleMemcheckGuestMovesThereAndBackWithItsTicksAndMemoryIntact() throws Exception {
        client.resource(vm("mig-idle", "256Mi", "memcheck:64")).create();
        awaitPhase("mig-idle", VmPhase.Running, true);
        awaitTickAbove("mig-idle", 2);
        String first = node("mig-idle");

        VMMigration there = migrateAndCheckContinuity("mig-idle", "mig-idle-1", s -> { });
        assertThat(there.getStatus().getSourceNode()).isEqualTo(first);
        assertThat(there.getStatus().getDowntimeMillis()).isNotNull().isNotNegative(); // whole ms from QEMU; 0 is < 1 ms
        assertThat(there.getStatus().getTotalTimeMillis()).isGreaterThanOrEqualTo(there.getStatus().getDowntimeMillis());
        assertThat(there.getStatus().getTransferredBytes()).isPositive();
        assertMemoryIntact("mig-idle");

        VMMigration back = migrateAndCheckContinuity("mig-idle", "mig-idle-2", s -> s.setTargetNode(first));
        assertThat(back.getStatus().getTargetNode()).isEqualTo(first);
        assertMemoryIntact("mig-idle");
        assertThat(condition(get("mig-idle"), "Migratable").getStatus()).isEqualTo("True");
        deleteAndAwaitGone("mig-idle");
    }

    /**
     * QEMU before 9.0 lost guest writes during pre-copy under TCG when RAM was a multiple of 256 KiB,
     * so the node padded it. From 9.0 on the guest gets exactly its spec, and ten write-heavy moves
     * there and back must keep every page it wrote.
     */
    @Test
    void aWriteHeavyGuestWithExactlyItsSpecMemoryMovesTenTimesByPreCopyWithMemoryIntact() throws Exception {
        VMNode someNode = client.resources(VMNode.class).list().getItems().getFirst();
        String qemu = someNode.getStatus().getQemuVersion();
        org.junit.jupiter.api.Assumptions.assumeTrue(Integer.parseInt(qemu.split("\\.")[0]) >= 9, () -> "QEMU " + qemu
                + " pads guest RAM under TCG (its pre-copy loses writes to RAM of a multiple of 256Ki; fixed in 9.0)");
        // q35: microvm under TCG has a kernel-parameter workaround of its own (the TSC), which would be listed too.
        VirtualMachine vm = vm("mig-exact", "256Mi", "memcheck:64");
        vm.getSpec().setProfile(io.kubevmm.api.v1alpha1.Profile.standard);
        client.resource(vm).create();
        awaitPhase("mig-exact", VmPhase.Running, true);
        awaitTickAbove("mig-exact", 2);
        assertThat(vmi("mig-exact").getStatus().getGuestMemory()).as("RAM QEMU gives the guest").isEqualTo("256Mi");
        assertThat(vmi("mig-exact").getStatus().getWorkarounds()).as("workarounds on QEMU %s", qemu).isNullOrEmpty();
        assertMemoryIntact("mig-exact");

        for (int i = 1; i <= 10; i++) {
            VMMigration done = migrateAndCheckContinuity("mig-exact", "mig-exact-" + i, s -> s.setStrategy(Strategy.PreCopy));
            assertThat(done.getStatus().getMode()).as("mode of migration %d", i).isEqualTo("PreCopy");
            assertMemoryIntact("mig-exact");
            assertThat(vmi("mig-exact").getStatus().getGuestMemory()).isEqualTo("256Mi");
            assertThat(vmi("mig-exact").getStatus().getWorkarounds()).isNullOrEmpty();
        }
        deleteAndAwaitGone("mig-exact");
    }

    @Test
    void aMultifdMigrationMovesAWriteHeavyGuestOverParallelTunnelConnections() throws Exception {
        VMNode someNode = client.resources(VMNode.class).list().getItems().getFirst();
        org.junit.jupiter.api.Assumptions.assumeTrue(someNode.getStatus().getQemuCapabilities() != null
                && someNode.getStatus().getQemuCapabilities().contains("multifd"), "this QEMU has no multifd");
        client.resource(vm("mig-multifd", "256Mi", "memcheck:64")).create();
        awaitPhase("mig-multifd", VmPhase.Running, true);
        awaitTickAbove("mig-multifd", 2);

        VMMigration done = migrateAndCheckContinuity("mig-multifd", "mig-multifd-1", s -> {
            s.setStrategy(Strategy.PreCopy);
            s.setMultifdChannels(3);
        });
        assertThat(done.getStatus().getTransferredBytes()).isPositive();
        assertMemoryIntact("mig-multifd");
        if (cluster != null) {
            assertThat(Files.readString(cluster.home().log(done.getStatus().getTargetNode())))
                    .contains("mig-multifd-1").contains("arrives by relay with 3 multifd channels");
        }
        deleteAndAwaitGone("mig-multifd");
    }

    @Test
    void postCopyMovesTheGuestAndItsMemory() throws Exception {
        // A guest dirtying faster than the cap: pre-copy cannot finish on its own, so the switch after
        // the first pass surely happens. (An idle guest can complete within one progress sample of
        // its first pass, now that the stream no longer goes through the node runtimes, and so never switch.)
        client.resource(vm("mig-post", "256Mi", "memcheck:32,dirty:96:400")).create();
        awaitPhase("mig-post", VmPhase.Running, true);
        awaitTickAbove("mig-post", 2);
        VMMigration done = migrateAndCheckContinuity("mig-post", "mig-post-1", s -> {
            s.setStrategy(Strategy.PostCopy);
            s.setBandwidthMiBps(32L);
        });
        assertThat(done.getStatus().getMode()).isEqualTo("PostCopy");
        assertMemoryIntact("mig-post");
        deleteAndAwaitGone("mig-post");
    }

    @Test
    void aVmWithADiskKeepsTheDataItWroteBeforeMoving() throws Exception {
        VirtualMachine vm = vm("mig-disk", "256Mi", "disk:vda");
        DiskSpec disk = new DiskSpec();
        disk.setName("data");
        disk.setSize("64Mi");
        vm.getSpec().setDisks(List.of(disk));
        client.resource(vm).create();
        awaitPhase("mig-disk", VmPhase.Running, true);
        awaitTickAbove("mig-disk", 1);
        await().atMost(BOOT).ignoreExceptions().until(() -> console("mig-disk").contains("disk wrote "));
        Matcher wrote = Pattern.compile("disk wrote ([0-9a-f]+)").matcher(console("mig-disk"));
        assertThat(wrote.find()).isTrue();
        String token = wrote.group(1);

        migrateAndCheckContinuity("mig-disk", "mig-disk-1", s -> { });
        await().atMost(BOOT).ignoreExceptions().until(() -> console("mig-disk").contains("disk read "));
        assertThat(console("mig-disk")).as("the guest re-reads its disk on the target").contains("disk read " + token)
                .doesNotContain("disk read (none)");

        // A fresh boot on the target finds the token on the migrated disk.
        edit("mig-disk", v -> { v.getSpec().setState(VmState.Stopped); return v; });
        awaitPhase("mig-disk", VmPhase.Stopped, false);
        edit("mig-disk", v -> { v.getSpec().setState(VmState.Running); return v; });
        awaitPhase("mig-disk", VmPhase.Running, true);
        await().atMost(BOOT).ignoreExceptions().until(() -> console("mig-disk").contains("disk found " + token));
        deleteAndAwaitGone("mig-disk");
    }

    /**
     * The VM's disk overlays an image downloaded by URL. The target node has not cached it: the
     * image server holds the target's download until the test has seen the migration wait for it
     * (Scheduling, the target's download progress in {@code status.target.images}), then lets it go,
     * and the migration succeeds with the guest's disk data intact.
     */
    @Test
    void aTargetWithoutTheVmsDownloadedImageFetchesItFirstAndTheMigrationWaits() throws Exception {
        assumeLocalCluster(); // the image server listens on this host's loopback
        Path base = cluster.home().dir().resolve("mig-image-base.qcow2");
        Files.deleteIfExists(base);
        Process img = new ProcessBuilder("qemu-img", "create", "-q", "-f", "qcow2", base.toString(), "64M")
                .redirectErrorStream(true).start();
        assertThat(img.waitFor()).as("qemu-img create").isZero();
        byte[] bytes = Files.readAllBytes(base);
        String sha256 = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger requests = new java.util.concurrent.atomic.AtomicInteger();
        com.sun.net.httpserver.HttpServer server = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(java.net.InetAddress.getByName(cluster.hostAddress()), 0), 0);
        server.createContext("/base.qcow2", exchange -> {
            try (exchange) {
                if (requests.incrementAndGet() > 1 && !release.await(3, java.util.concurrent.TimeUnit.MINUTES)) {
                    exchange.sendResponseHeaders(503, -1);
                    return;
                }
                exchange.sendResponseHeaders(200, bytes.length);
                exchange.getResponseBody().write(bytes);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        server.start();
        try {
            VirtualMachine vm = vm("mig-image", "256Mi", "disk:vda");
            DiskSpec disk = new DiskSpec();
            disk.setName("data");
            disk.setSource(io.kubevmm.api.v1alpha1.DiskSource.http(
                    "http://" + cluster.hostAddress() + ":" + server.getAddress().getPort() + "/base.qcow2", sha256));
            vm.getSpec().setDisks(List.of(disk));
            client.resource(vm).create();
            awaitPhase("mig-image", VmPhase.Running, true);
            await().atMost(BOOT).ignoreExceptions().until(() -> console("mig-image").contains("disk wrote "));
            Matcher wrote = Pattern.compile("disk wrote ([0-9a-f]+)").matcher(console("mig-image"));
            assertThat(wrote.find()).isTrue();
            assertThat(requests.get()).as("the source node downloaded the image once").isEqualTo(1);

            String name = migration("mig-image-1", "mig-image", s -> { }).getMetadata().getName();
            await().atMost(MIGRATION).pollInterval(Duration.ofMillis(200)).until(() -> {
                var status = getMigration(name).getStatus();
                return status != null && status.getTarget() != null && status.getTarget().getImages() != null
                        && !status.getTarget().getImages().isEmpty();
            });
            var waiting = getMigration(name).getStatus();
            assertThat(waiting.getPhase()).isEqualTo(Phase.Scheduling);
            assertThat(waiting.getTarget().getImages()).singleElement().satisfies(i -> {
                assertThat(i.getDisk()).isEqualTo("data");
                assertThat(i.getPhase()).isEqualTo(io.kubevmm.api.v1alpha1.ImageStatus.Phase.Downloading);
            });
            release.countDown();

            VMMigration done = awaitOutcome(name);
            assertThat(done.getStatus().getPhase()).as("outcome: %s", done.getStatus().getFailureReason()).isEqualTo(Phase.Succeeded);
            assertThat(done.getStatus().getTarget().getImages()).as("the finished download is no longer listed").isEmpty();
            await().atMost(BOOT).ignoreExceptions().until(() -> console("mig-image").contains("disk read "));
            assertThat(console("mig-image")).contains("disk read " + wrote.group(1));
            deleteAndAwaitGone("mig-image");
        } finally {
            release.countDown();
            server.stop(0);
            Files.deleteIfExists(base);
        }
    }

    @Test
    void cancellingMidFlightLeavesTheVmRunningOnTheSource() throws Exception {
        client.resource(vm("mig-cancel", "256Mi", "memcheck:64,dirty:96:400")).create();
        awaitPhase("mig-cancel", VmPhase.Running, true);
        awaitTickAbove("mig-cancel", 2);
        String source = node("mig-cancel");
        migration("mig-cancel-1", "mig-cancel", s -> { s.setStrategy(Strategy.PreCopy); s.setAutoConverge(false); s.setBandwidthMiBps(8L); });
        awaitMigrationPhase("mig-cancel-1", Phase.Running);
        // A merge patch, as `kubevmm migrate --cancel` sends: a read-modify-write would race the
        // node runtimes' once-a-second status writes and fail with 409.
        client.resources(VMMigration.class).inNamespace("default").withName("mig-cancel-1").patch(
                io.fabric8.kubernetes.client.dsl.base.PatchContext.of(io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
                "{\"spec\":{\"cancel\":true}}");
        VMMigration done = awaitOutcome("mig-cancel-1");
        assertThat(done.getStatus().getPhase()).isEqualTo(Phase.Cancelled);
        assertThat(node("mig-cancel")).isEqualTo(source);
        awaitPhase("mig-cancel", VmPhase.Running, true);
        int tick = lastTick("mig-cancel");
        awaitTickAbove("mig-cancel", tick);
        assertMemoryIntact("mig-cancel");
        deleteAndAwaitGone("mig-cancel");
    }

    @Test
    void aGuestDirtyingFasterThanTheCapDoesNotConvergeWithPlainPreCopyAndIsAbortedAtTheTimeout() throws Exception {
        client.resource(vm("mig-dirty", "256Mi", "memcheck:32,dirty:96:400")).create();
        awaitPhase("mig-dirty", VmPhase.Running, true);
        awaitTickAbove("mig-dirty", 2);
        String source = node("mig-dirty");
        VMMigration aborted = awaitOutcome(migration("mig-dirty-1", "mig-dirty", s -> {
            s.setStrategy(Strategy.PreCopy);
            s.setAutoConverge(false);
            s.setBandwidthMiBps(16L);
            s.setMaxDowntimeMillis(50L);
            s.setCompletionTimeoutSeconds(20L);
        }).getMetadata().getName());
        assertThat(aborted.getStatus().getPhase()).isEqualTo(Phase.Failed);
        assertThat(aborted.getStatus().getFailureReason()).startsWith("Aborted").contains("timeout");
        assertThat(node("mig-dirty")).isEqualTo(source);
        awaitPhase("mig-dirty", VmPhase.Running, true);
        assertMemoryIntact("mig-dirty");

        VMMigration converged = migrateAndCheckContinuity("mig-dirty", "mig-dirty-2", s -> {
            s.setStrategy(Strategy.Auto);
            s.setBandwidthMiBps(16L);
            s.setMaxDowntimeMillis(300L);
            s.setCompletionTimeoutSeconds(120L);
        });
        // QEMU aims below the limit from the bandwidth it measured; on a loaded 2-core TCG host the real
        // pause can be longer (595 ms measured once). What the user relies on is that it is measured and
        // said: the outcome names a pause above spec.maxDowntimeMillis. (How low it stays: bench/MigrationBench.)
        long downtime = converged.getStatus().getDowntimeMillis();
        assertThat(downtime).isNotNegative().isLessThan(converged.getStatus().getTotalTimeMillis());
        assertThat(converged.getStatus().getConditions()).filteredOn(c -> c.getType().equals("Completed"))
                .extracting(c -> c.getReason()).containsExactly(downtime > 300 ? "SucceededAboveMaxDowntime" : "Succeeded");
        assertMemoryIntact("mig-dirty");
        deleteAndAwaitGone("mig-dirty");
    }

    @Test
    void killingTheTargetNodeRuntimeAndItsQemuDuringPreCopyFailsTheMigrationAndTheVmRunsOn() throws Exception {
        assumeLocalCluster();
        client.resource(vm("mig-kill", "256Mi", "memcheck:64,dirty:96:400")).create();
        awaitPhase("mig-kill", VmPhase.Running, true);
        awaitTickAbove("mig-kill", 2);
        String source = node("mig-kill");
        migration("mig-kill-1", "mig-kill", s -> { s.setStrategy(Strategy.PreCopy); s.setAutoConverge(false); s.setBandwidthMiBps(8L); });
        awaitMigrationPhase("mig-kill-1", Phase.Running);
        String target = getMigration("mig-kill-1").getStatus().getTargetNode();
        Path pidFile = cluster.home().nodeStateDir(target).resolve("vms/default_mig-kill/qemu.pid");
        long qemuPid = Long.parseLong(Files.readString(pidFile).strip());
        cluster.kill9(target);
        ProcessHandle.of(qemuPid).ifPresent(ProcessHandle::destroyForcibly);

        VMMigration failed = awaitOutcome("mig-kill-1");
        assertThat(failed.getStatus().getPhase()).isEqualTo(Phase.Failed);
        assertThat(node("mig-kill")).isEqualTo(source);
        awaitPhase("mig-kill", VmPhase.Running, true);
        assertMemoryIntact("mig-kill");

        cluster.restart(target);
        await().atMost(BOOT).ignoreExceptions().until(() -> !Files.exists(pidFile));
        deleteAndAwaitGone("mig-kill");
    }

    @Test
    void aTunnelConnectionWithoutTheRightSecretIsRefused() throws Exception {
        VMNode node = client.resources(VMNode.class).list().getItems().getFirst();
        String[] endpoint = node.getStatus().getMigrationEndpoint().split(":");
        try (Socket socket = new Socket(endpoint[0], Integer.parseInt(endpoint[1]))) {
            socket.setSoTimeout(10_000);
            var in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            String greeting = in.readLine();
            assertThat(greeting).startsWith("KUBEVMM-TUNNEL");
            OutputStream out = socket.getOutputStream();
            // Well formed (base64url of 32 bytes) but not made with any migration's secret.
            out.write(("some-migration migration " + "A".repeat(43) + "\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertThat(in.readLine()).startsWith("DENIED");
        }
        if (cluster != null) {
            await().atMost(Duration.ofSeconds(10)).until(() ->
                    Files.readString(cluster.home().log(node.getMetadata().getName())).contains("some-migration"));
        }
    }

    @Test
    void badRequestsFailWithTheFieldNamed() {
        VMMigration missing = awaitOutcome(migration("mig-bad-1", "no-such-vm", s -> { }).getMetadata().getName());
        assertThat(missing.getStatus().getPhase()).isEqualTo(Phase.Failed);
        assertThat(missing.getStatus().getFailureReason()).contains("spec.vmName").contains("no-such-vm");
    }

    @Test
    void evacuatingANodeMovesItsThreeVmsAwayAndReportsProgress() throws Exception {
        List<VMNode> nodes = client.resources(VMNode.class).list().getItems();
        String evacuated = nodes.get(0).getMetadata().getName();
        String other = nodes.get(1).getMetadata().getName();
        setNode(other, "unschedulable", true); // all three land on the node to evacuate
        List<String> vms = List.of("evac-1", "evac-2", "evac-3");
        try {
            for (String name : vms) {
                client.resource(vm(name, "256Mi", "memcheck:32")).create();
            }
            for (String name : vms) {
                awaitPhase(name, VmPhase.Running, true);
                assertThat(node(name)).isEqualTo(evacuated);
            }
        } finally {
            setNode(other, "unschedulable", false);
        }
        for (String name : vms) {
            awaitTickAbove(name, 1);
        }

        setNode(evacuated, "evacuate", true);
        await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(500)).until(() -> {
            var e = client.resources(VMNode.class).withName(evacuated).get().getStatus().getEvacuation();
            return e != null && e.getPhase() == io.kubevmm.api.v1alpha1.EvacuationStatus.Phase.Completed;
        });
        var evacuation = client.resources(VMNode.class).withName(evacuated).get().getStatus().getEvacuation();
        assertThat(evacuation.getMigrated()).isEqualTo(3);
        assertThat(evacuation.getRemaining()).isZero();
        for (String name : vms) {
            assertThat(node(name)).isEqualTo(other);
            awaitPhase(name, VmPhase.Running, true);
            assertThat(console(name)).doesNotContain("KUBEVMM-GUEST-READY");
            assertMemoryIntact(name);
        }
        // An evacuating node takes no new VMs.
        client.resource(vm("evac-new", "256Mi", "idle")).create();
        awaitPhase("evac-new", VmPhase.Running, false);
        assertThat(node("evac-new")).isEqualTo(other);

        setNode(evacuated, "evacuate", false);
        for (String name : List.of("evac-1", "evac-2", "evac-3", "evac-new")) {
            deleteAndAwaitGone(name);
        }
    }

    void setNode(String node, String field, boolean value) {
        client.resources(VMNode.class).withName(node).patch(io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE), "{\"spec\":{\"" + field + "\":" + value + "}}");
    }
}
