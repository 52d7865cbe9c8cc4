package io.kubevmm.node.snapshot;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.kubevmm.node.engine.MigrationStatus;
import io.kubevmm.node.engine.RunState;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.engine.VmmInstance;
import io.kubevmm.node.testing.GuestConsole;
import io.kubevmm.node.testing.StartedGuests;
import io.kubevmm.node.testing.TestGuest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Snapshots of real guests through the store: rollback, disk content, clones, integrity. */
class SnapshotRestoreTest {
    private static final Duration BOOT = Duration.ofSeconds(60);
    private static final Pattern TICK = Pattern.compile("^tick (\\d+)", Pattern.MULTILINE);
    @RegisterExtension
    final StartedGuests started = new StartedGuests();

    @TempDir
    Path dir;
    private Snapshotter snapshots;

    @BeforeEach
    void setUp() {
        snapshots = new Snapshotter(TestGuest.engine(), new SnapshotStore(dir.resolve("snapshots")));
    }


    @Test
    void aFullStateRollbackTakesTheGuestBackToTheSnapshotsTick() throws Exception {
        VmConfig vm = guest("vm", "memcheck:32,disk:vda", "52:54:00:00:00:01");
        VmmInstance running = boot(vm);
        GuestConsole console = new GuestConsole(vm.consoleLog());
        await().atMost(BOOT).until(() -> console.lastMemcheckPass() >= 1 && console.lastTick() >= 2);

        int tickBefore = console.lastTick();
        StoredSnapshot snap = snapshots.snapshotFullState("full", running, details(vm, SnapshotType.FullState));
        int tickAfter = console.lastTick();
        System.out.printf("full-state snapshot: pause %d ms, duration %d ms, %d bytes%n",
                snap.manifest().pauseMillis(), snap.manifest().durationMillis(), snap.manifest().sizeBytes());

        // The pause is measured (STOP to RESUME) and the guest runs while its memory is written
        // out. How short the pause is on a given host is a figure for bench/snapshot, not a test.
        assertThat(snap.manifest().pauseMillis()).as("the measured pause").isPositive()
                .isLessThan(snap.manifest().durationMillis());
        assertThat(snap.manifest().sizeBytes()).isGreaterThan(32L << 20);
        assertThat(snap.manifest().disks()).hasSize(1);
        assertThat(running.runState()).as("the guest runs on after the snapshot").isEqualTo(RunState.RUNNING);
        console.awaitTickAbove(tickAfter + 4, Duration.ofSeconds(30));
        int lastBeforeRollback = console.lastTick();

        running.destroy();
        long offset = Files.size(vm.consoleLog());
        VmmInstance restored = snapshots.restore("full", vm);
        started.add(restored);
        restored.resume();

        await().atMost(Duration.ofSeconds(30)).until(() -> ticksAfter(vm, offset).size() >= 3 && memcheckAfter(vm, offset) >= 1);
        int first = ticksAfter(vm, offset).getFirst();
        assertThat(first).as("the tick count goes back to the snapshot's value").isBetween(tickBefore, tickAfter + 1)
                .isLessThan(lastBeforeRollback);
        String after = consoleAfter(vm, offset);
        assertThat(after).doesNotContain(GuestConsole.READY).doesNotContain("memcheck BAD");
    }

    @Test
    void aDiskSnapshotBringsBackWhatTheGuestHadWritten() throws Exception {
        VmConfig vm = guest("vm", "disk:vda", "52:54:00:00:00:01");
        VmmInstance running = boot(vm);
        GuestConsole console = new GuestConsole(vm.consoleLog());
        await().atMost(BOOT).until(() -> token(console.text(), "wrote") != null);
        String tokenA = token(console.text(), "wrote");

        StoredSnapshot snap = snapshots.snapshotDisks("disk", running, details(vm, SnapshotType.Disk));
        System.out.printf("live disk snapshot: duration %d ms, %d bytes%n", snap.manifest().durationMillis(), snap.manifest().sizeBytes());
        assertThat(running.runState()).isEqualTo(RunState.RUNNING);
        long reads = console.count("disk read " + tokenA);
        await().atMost(Duration.ofSeconds(20)).until(() -> console.count("disk read " + tokenA) > reads);

        // B overwrites A in the layer the guest writes to now; the next boot finds B.
        running.destroy();
        String tokenB = "b0b0b0b0b0b0b0b0";
        writeToken(activeLayer(vm), tokenB);
        long bootB = Files.size(vm.consoleLog());
        boot(vm);
        await().atMost(BOOT).until(() -> consoleAfter(vm, bootB).contains("disk found "));
        assertThat(token(consoleAfter(vm, bootB), "found")).isEqualTo(tokenB);
        started.removeLast().destroy();

        long offset = Files.size(vm.consoleLog());
        VmmInstance restored = snapshots.restore("disk", vm);
        started.add(restored);
        restored.resume();
        await().atMost(BOOT).until(() -> consoleAfter(vm, offset).contains("disk found "));
        assertThat(token(consoleAfter(vm, offset), "found")).as("the disk holds A again").isEqualTo(tokenA);

        // Deleting the snapshot folds its layer into the running guest's disk; the guest keeps reading A.
        List<Path> merged = snapshots.delete("disk", restored, null);
        assertThat(merged).isNotEmpty().allSatisfy(p -> assertThat(p).doesNotExist());
        long readsBefore = consoleAfter(vm, offset).lines().filter(l -> l.equals("disk read " + tokenA)).count();
        await().atMost(Duration.ofSeconds(20)).until(() ->
                consoleAfter(vm, offset).lines().filter(l -> l.equals("disk read " + tokenA)).count() > readsBefore);
        assertThat(consoleAfter(vm, offset)).doesNotContain("read failed");
    }

    @Test
    void aSnapshotClonesIntoTwoRunningGuestsWithTheirOwnIdentity() throws Exception {
        VmConfig vm = guest("vm", "memcheck:32,disk:vda", "52:54:00:00:00:01");
        VmmInstance running = boot(vm);
        GuestConsole console = new GuestConsole(vm.consoleLog());
        await().atMost(BOOT).until(() -> console.lastMemcheckPass() >= 1 && token(console.text(), "wrote") != null);
        String token = token(console.text(), "wrote");
        int tickAtSnapshot = console.lastTick();
        snapshots.snapshotFullState("golden", running, details(vm, SnapshotType.FullState));

        VmConfig clone1 = guest("clone1", "memcheck:32,disk:vda", "52:54:00:00:00:11");
        VmConfig clone2 = guest("clone2", "memcheck:32,disk:vda", "52:54:00:00:00:12");
        VmmInstance a = snapshots.restore("golden", clone1);
        started.add(a);
        VmmInstance b = snapshots.restore("golden", clone2);
        started.add(b);
        a.resume();
        b.resume();

        for (VmConfig clone : List.of(clone1, clone2)) {
            await().atMost(Duration.ofSeconds(40)).until(() -> ticksAfter(clone, 0).size() >= 2 && memcheckAfter(clone, 0) >= 1
                    && consoleAfter(clone, 0).contains("disk read " + token));
            assertThat(ticksAfter(clone, 0).getFirst()).as("continues from the snapshot, no reboot").isBetween(tickAtSnapshot, tickAtSnapshot + 2);
            assertThat(consoleAfter(clone, 0)).doesNotContain(GuestConsole.READY).doesNotContain("memcheck BAD");
        }
        assertThat(commandLine(a)).contains("mac=52:54:00:00:00:11");
        assertThat(commandLine(b)).contains("mac=52:54:00:00:00:12");
        assertThat(vmgenid(a)).isNotEqualTo(vmgenid(b)).isNotEqualTo(vmgenid(running));
        assertThat(running.runState()).as("the original runs on").isEqualTo(RunState.RUNNING);
        snapshots.store().verify(snapshots.store().get("golden")); // clones never write into the snapshot
    }

    @Test
    void aCorruptOrTruncatedStateFileFailsTheRestoreNamingTheFile() throws Exception {
        VmConfig vm = guest("vm", "memcheck:16", "52:54:00:00:00:01");
        VmmInstance running = boot(vm);
        GuestConsole console = new GuestConsole(vm.consoleLog());
        await().atMost(BOOT).until(() -> console.lastMemcheckPass() >= 1);
        StoredSnapshot snap = snapshots.snapshotFullState("s", running, details(vm, SnapshotType.FullState));
        Path state = snap.stateFile();
        VmConfig clone = guest("clone", "memcheck:16", "52:54:00:00:00:02");

        byte original;
        try (RandomAccessFile f = new RandomAccessFile(state.toFile(), "rw")) {
            f.seek(f.length() / 2);
            original = f.readByte();
            f.seek(f.length() / 2);
            f.write(original ^ 0x01);
        }
        assertThatThrownBy(() -> snapshots.restore("s", clone))
                .isInstanceOf(SnapshotIntegrityException.class)
                .hasMessageContaining("artifact " + state.getFileName()).hasMessageContaining("corrupt")
                .message().doesNotContain(state.getParent().toString());

        try (RandomAccessFile f = new RandomAccessFile(state.toFile(), "rw")) {
            f.seek(f.length() / 2);
            f.write(original);
            f.setLength(f.length() - 4096);
        }
        assertThatThrownBy(() -> snapshots.restore("s", clone))
                .isInstanceOf(SnapshotIntegrityException.class)
                .hasMessageContaining("artifact " + state.getFileName()).hasMessageContaining("truncated")
                .message().doesNotContain(state.getParent().toString());
        assertThat(running.runState()).isEqualTo(RunState.RUNNING);
    }

    @Test
    void aGuestLiveMigratedAfterADiskSnapshotTakesItsWholeDiskAlong() throws Exception {
        VmConfig vm = guest("vm", "disk:vda", "52:54:00:00:00:01");
        VmmInstance source = boot(vm);
        GuestConsole console = new GuestConsole(vm.consoleLog());
        await().atMost(BOOT).until(() -> token(console.text(), "wrote") != null);
        String token = token(console.text(), "wrote");
        snapshots.snapshotDisks("before-move", source, details(vm, SnapshotType.Disk)); // the token now sits in a frozen layer

        VmConfig target = new VmConfig(vm.id(), dir.resolve("node-b").resolve("vm"), vm.profile(), vm.cpus(), vm.memoryBytes(),
                vm.kernel(), vm.initrd(), vm.cmdline(), vm.disks(), vm.network(), vm.macAddress());
        VmmInstance arriving = TestGuest.engine().createIncoming(target);
        started.add(arriving);
        Path stream = target.stateDir().resolve("incoming.sock");
        Path nbd = target.stateDir().resolve("nbd.sock");
        arriving.incoming().listen(stream, false);
        arriving.incoming().exportDisks(nbd);
        source.outgoing().mirrorDisks(nbd, Duration.ofMinutes(1));
        source.outgoing().start(stream, new io.kubevmm.node.engine.MigrationTuning(false, false, 300, 0));
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(50))
                .until(() -> source.outgoing().progress(0).status(), st -> st == MigrationStatus.COMPLETED || st == MigrationStatus.FAILED);
        assertThat(source.outgoing().progress(0).status()).isEqualTo(MigrationStatus.COMPLETED);
        source.outgoing().finishDiskMirrors();
        arriving.incoming().stopDiskExport();

        GuestConsole after = new GuestConsole(target.consoleLog());
        await().atMost(Duration.ofSeconds(30)).until(() -> after.text().contains("disk read "));
        assertThat(token(after.text(), "read")).as("the target's disk holds what sat in the snapshot layer").isEqualTo(token);
    }

    @Test
    void aPausedGuestStaysPausedThroughAFullStateSnapshot() throws Exception {
        VmConfig vm = guest("vm", "memcheck:16,disk:vda", "52:54:00:00:00:01");
        VmmInstance running = boot(vm);
        GuestConsole console = new GuestConsole(vm.consoleLog());
        await().atMost(BOOT).until(() -> console.lastMemcheckPass() >= 1 && console.lastTick() >= 1);
        running.pause();
        int tick = console.lastTick();

        snapshots.snapshotFullState("paused", running, details(vm, SnapshotType.FullState));

        assertThat(running.runState()).isEqualTo(RunState.PAUSED);
        Thread.sleep(2500);
        assertThat(console.lastTick()).as("no tick while paused").isEqualTo(tick);
        running.resume();
        console.awaitTickAbove(tick, Duration.ofSeconds(20));
    }

    // ---- helpers ----

    private VmConfig guest(String name, String workload, String mac) {
        List<VmConfig.Disk> disks = workload.contains("disk:") ? List.of(new VmConfig.Disk("data", 64L << 20, null)) : List.of();
        VmConfig base = TestGuest.config(dir.resolve("vms"), name, workload, VmConfig.Profile.MICROVM, disks);
        return new VmConfig(base.id(), base.stateDir(), base.profile(), base.cpus(), base.memoryBytes(), base.kernel(), base.initrd(),
                base.cmdline(), base.disks(), VmConfig.NetworkMode.USER, mac);
    }

    private static SnapshotDetails details(VmConfig vm, SnapshotType type) {
        return new SnapshotDetails(vm.id(), "uid-" + vm.id(), JsonNodeFactory.instance.objectNode().put("memoryBytes", vm.memoryBytes()),
                type, Instant.now());
    }

    private VmmInstance boot(VmConfig config) throws Exception {
        VmmInstance vm = TestGuest.engine().create(config);
        started.add(vm);
        vm.resume();
        return vm;
    }

    private static String consoleAfter(VmConfig vm, long offset) throws Exception {
        byte[] all = Files.readAllBytes(vm.consoleLog());
        return new String(all, (int) Math.min(offset, all.length), (int) Math.max(0, all.length - offset), StandardCharsets.ISO_8859_1);
    }

    private static List<Integer> ticksAfter(VmConfig vm, long offset) throws Exception {
        if (!Files.exists(vm.consoleLog())) {
            return List.of();
        }
        return TICK.matcher(consoleAfter(vm, offset)).results().map(r -> Integer.parseInt(r.group(1))).toList();
    }

    private static long memcheckAfter(VmConfig vm, long offset) throws Exception {
        return Files.exists(vm.consoleLog()) ? consoleAfter(vm, offset).lines().filter(l -> l.startsWith("memcheck ok")).count() : 0;
    }

    private static String token(String console, String verb) {
        Matcher m = Pattern.compile("^disk " + verb + " ([0-9a-f]{16})", Pattern.MULTILINE).matcher(console);
        String last = null;
        while (m.find()) {
            last = m.group(1);
        }
        return last;
    }

    private static Path activeLayer(VmConfig vm) throws Exception {
        return vm.stateDir().resolve(Files.readString(vm.stateDir().resolve("disk-data.active")).strip());
    }

    /** Writes the guest's disk token format into block 0 of a qcow2 layer, as the guest would. */
    private static void writeToken(Path qcow2, String token) throws Exception {
        byte[] block = new byte[4096];
        byte[] text = ("KUBEVMM-DISK " + token).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(text, 0, block, 0, text.length);
        Path pattern = Files.write(qcow2.resolveSibling("token-b.bin"), block);
        Process p = new ProcessBuilder("qemu-io", "-f", "qcow2", "-c", "write -s " + pattern + " 0 4096", qcow2.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("qemu-io: " + out).isZero();
    }

    private static String commandLine(VmmInstance vm) throws Exception {
        return new String(Files.readAllBytes(Path.of("/proc", Long.toString(vm.pid()), "cmdline")), StandardCharsets.UTF_8).replace('\0', ' ');
    }

    private static String vmgenid(VmmInstance vm) throws Exception {
        Matcher m = Pattern.compile("vmgenid,guid=(\\S+)").matcher(commandLine(vm));
        assertThat(m.find()).as("a vmgenid device").isTrue();
        return m.group(1);
    }
}
