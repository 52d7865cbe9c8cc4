package io.kubevmm.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kubevmm.node.engine.RunState;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.engine.VmmInstance;
import io.kubevmm.node.engine.qemu.QemuCommandLine;
import io.kubevmm.node.engine.qemu.QemuEngine;
import io.kubevmm.node.qmp.QmpClient;
import io.kubevmm.node.qmp.QmpEvent;
import io.kubevmm.node.snapshot.SnapshotDetails;
import io.kubevmm.node.snapshot.SnapshotStore;
import io.kubevmm.node.snapshot.SnapshotType;
import io.kubevmm.node.snapshot.Snapshotter;
import io.kubevmm.node.snapshot.StoredSnapshot;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Full-state snapshots of 128, 256 and 512 MiB guests (memcheck running), each run alternating
 * two paths on two emulators booted from the same command line: raw (plain QMP:
 * background-snapshot capability, {@code migrate exec:cat > file}, the way QEMU documents it)
 * and kubevmm ({@link Snapshotter#snapshotFullState}: store, hashed state stream, manifest).
 * While one path is measured the other guest is paused, so they never share the CPU. Then
 * restore-to-running of the 256 MiB snapshot: raw {@code -incoming} + {@code cont} vs kubevmm
 * {@link Snapshotter#restore} (checksums verified) + resume. The raw path also snapshots with
 * mapped-ram ({@code file:} stream, RAM at fixed offsets) in the same run, and restores from that;
 * then {@link SuspendBench}: suspend to disk and resume, mapped-ram off and on.
 */
public final class SnapshotBench {
    private static final ObjectMapper JSON = new ObjectMapper();

    record Sample(long pauseMillis, long totalMillis, long sizeBytes) { }

    public static void main(String[] args) throws Exception {
        int runs = 5;
        Path images = Path.of("guest/out");
        List<Long> sizes = List.of(128L, 256L, 512L);
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--images" -> images = Path.of(args[++i]);
                case "--memory" -> sizes = java.util.Arrays.stream(args[++i].split(",")).map(Long::parseLong).toList();
                default -> throw new IllegalArgumentException("unknown option " + args[i] + " (use --runs N --memory 128,256,512)");
            }
        }
        QemuEngine engine = new QemuEngine("qemu-system-x86_64", "qemu-img", QemuEngine.AcceleratorChoice.AUTO);
        System.out.printf("snapshot bench: microvm guests running memcheck:32, %s, QEMU %s, %d runs per path and size after one warm-up run;"
                        + " kubevmm state written %s%n", engine.accelerator().apiName(), engine.version(), runs,
                io.kubevmm.node.qmp.FdPassing.available() ? "by QEMU into a passed file descriptor"
                        : "through exec:cat (" + io.kubevmm.node.qmp.FdPassing.unavailableReason() + ")");
        Path work = Files.createTempDirectory("kubevmm-bench-snapshot");
        ObjectNode json = JsonNodeFactory.instance.objectNode().put("bench", "snapshot").put("runs", runs)
                .put("accelerator", engine.accelerator().apiName()).put("qemu", engine.version());
        List<String[]> table = new ArrayList<>();
        List<String[]> suspend = List.of();
        long suspendMib = 0;
        Long restoreSize = sizes.contains(256L) ? 256L : sizes.getFirst();
        for (long mib : sizes) {
            List<Sample> raw = new ArrayList<>();
            List<Sample> mapped = new ArrayList<>();
            String mappedError = null;
            List<Sample> kubevmm = new ArrayList<>();
            Path dir = work.resolve(mib + "m");
            VmConfig kubeConfig = config(dir.resolve("kubevmm"), images, mib, "bench_snap_kubevmm", "52:54:00:00:01:01");
            VmConfig rawConfig = config(dir.resolve("raw"), images, mib, "bench_snap_raw", "52:54:00:00:01:02");
            Snapshotter snapshotter = new Snapshotter(engine, new SnapshotStore(dir.resolve("store")));
            VmmInstance kube = engine.create(kubeConfig);
            RawQemu rawVm = RawQemu.start(engine, rawConfig, false);
            try {
                kube.resume();
                rawVm.qmp.execute("cont");
                awaitConsole(kubeConfig, "memcheck ok", Duration.ofSeconds(120));
                awaitConsole(rawConfig, "memcheck ok", Duration.ofSeconds(120));
                for (int run = 0; run <= runs; run++) { // run 0 warms up both paths (JIT, page cache) and is not counted
                    kube.pause();
                    Sample r = rawVm.backgroundSnapshot(dir.resolve("raw-" + run + ".state"));
                    Files.deleteIfExists(dir.resolve("raw-" + run + ".state"));
                    if (run > 0) {
                        raw.add(r);
                    }
                    Sample m = null;
                    if (mappedError == null) {
                        Path file = dir.resolve("mapped-" + run + ".state");
                        try {
                            m = rawVm.backgroundSnapshot(file, true);
                            System.out.printf(Locale.ROOT, "  %4d MiB run %d: raw mapped-ram pause %3d ms total %6d ms %6.1f MB (%.1f MB on disk)%n",
                                    mib, run, m.pauseMillis(), m.totalMillis(), m.sizeBytes() / 1e6, RawQemu.allocatedBytes(file) / 1e6);
                            if (run > 0) {
                                mapped.add(m);
                            }
                        } catch (Exception e) {
                            mappedError = e.getMessage();
                            System.out.printf("  %4d MiB: background snapshot with mapped-ram failed: %s%n", mib, mappedError);
                        }
                        if (!(mib == restoreSize && run == runs)) {
                            Files.deleteIfExists(file);
                        }
                    }
                    kube.resume();
                    rawVm.qmp.execute("stop");
                    String name = "run-" + run;
                    StoredSnapshot snap = snapshotter.snapshotFullState(name, kube, new SnapshotDetails(kubeConfig.id(), "bench",
                            JsonNodeFactory.instance.objectNode().put("memoryMiB", mib), SnapshotType.FullState, Instant.now()));
                    Sample k = new Sample(snap.manifest().pauseMillis(), snap.manifest().durationMillis(), snap.manifest().sizeBytes());
                    if (run > 0) {
                        kubevmm.add(k);
                    }
                    boolean keep = mib == restoreSize && run == runs;
                    if (!keep) {
                        snapshotter.delete(name, kube, null);
                    }
                    rawVm.qmp.execute("cont");
                    System.out.printf(Locale.ROOT, "  %4d MiB run %d: raw pause %3d ms total %6d ms %6.1f MB | kubevmm pause %3d ms total %6d ms %6.1f MB%n",
                            mib, run, r.pauseMillis(), r.totalMillis(), r.sizeBytes() / 1e6, k.pauseMillis(), k.totalMillis(), k.sizeBytes() / 1e6);
                }
                boolean intact = !(Files.readString(kubeConfig.consoleLog(), StandardCharsets.ISO_8859_1)
                        + Files.readString(rawConfig.consoleLog(), StandardCharsets.ISO_8859_1)).contains("memcheck BAD");
                System.out.printf("  guest memory after the snapshots: %s%n", intact ? "memcheck ok" : "memcheck BAD");
            } finally {
                kube.destroy();
                rawVm.destroy();
            }
            table.add(row(mib, "raw", raw));
            table.add(mappedError == null ? row(mib, "raw+mapped-ram", mapped)
                    : new String[]{mib + " MiB", "raw+mapped-ram", "failed", "", "", mappedError});
            table.add(row(mib, "kubevmm", kubevmm));
            ObjectNode size = json.putObject(mib + "MiB");
            size.set("raw", summary(raw));
            size.set("kubevmm", summary(kubevmm));
            if (mappedError == null) {
                size.set("rawMappedRam", summary(mapped));
            } else {
                size.put("rawMappedRam", "failed: " + mappedError);
            }
            size.put("totalRatio", p50(kubevmm.stream().map(Sample::totalMillis).toList()) / (double) Math.max(1, p50(raw.stream().map(Sample::totalMillis).toList())));

            if (mib == restoreSize) {
                restoreBench(engine, snapshotter, images, dir, mib, runs, json);
                List<Sample> withDisk = withDisk(engine, images, dir, mib, runs);
                table.add(row(mib, "kubevmm+disk", withDisk));
                size.set("kubevmmWithDisk", summary(withDisk));
                suspend = SuspendBench.run(engine, images, dir, mib, runs, json);
                suspendMib = mib;
            }
        }
        System.out.printf("%nfull-state snapshot, p50 of %d runs:%n", runs);
        System.out.printf("  %-8s %-12s %10s %12s %10s %12s%n", "memory", "path", "pause p50", "pause max", "total p50", "size p50");
        for (String[] r : table) {
            System.out.printf("  %-8s %-12s %10s %12s %10s %12s%n", (Object[]) r);
        }
        System.out.printf("%nsuspend to disk and resume, %d MiB, p50 of %d (each guest suspended and resumed %d times in a row):%n",
                suspendMib, runs, runs);
        System.out.printf("  %-16s %10s %12s %22s %s%n", "way", "save p50", "resume p50", "state size / on disk", "guest after");
        for (String[] r : suspend) {
            System.out.printf("  %-16s %10s %12s %22s %s%n", (Object[]) r);
        }
        System.out.println("BENCH-JSON " + JSON.writeValueAsString(json));
    }

    private static void restoreBench(QemuEngine engine, Snapshotter snapshotter, Path images, Path dir, long mib, int runs,
                                     ObjectNode json) throws Exception {
        StoredSnapshot snap = snapshotter.store().get("run-" + runs);
        List<Long> raw = new ArrayList<>();
        List<Long> mapped = new ArrayList<>();
        Path mappedFile = dir.resolve("mapped-" + runs + ".state");
        List<Long> kubevmm = new ArrayList<>();
        for (int run = 1; run <= runs; run++) {
            VmConfig rawConfig = config(dir.resolve("restore-raw-" + run), images, mib, "bench_snap_kubevmm", "52:54:00:00:01:01");
            long t0 = System.nanoTime();
            RawQemu rawVm = RawQemu.start(engine, rawConfig, true);
            try {
                rawVm.qmp.execute("migrate-incoming", Map.of("uri", "exec:cat '" + snap.stateFile() + "'"));
                rawVm.awaitMigration();
                rawVm.qmp.execute("cont");
                raw.add((System.nanoTime() - t0) / 1_000_000);
            } finally {
                rawVm.destroy();
            }
            if (Files.exists(mappedFile)) {
                VmConfig mappedConfig = config(dir.resolve("restore-mapped-" + run), images, mib, "bench_snap_raw", "52:54:00:00:01:02");
                long tm = System.nanoTime();
                RawQemu mappedVm = RawQemu.start(engine, mappedConfig, true);
                try {
                    mappedVm.loadAndRun("file:" + mappedFile, Map.of("mapped-ram", true), 0);
                    mapped.add((System.nanoTime() - tm) / 1_000_000);
                } finally {
                    mappedVm.destroy();
                }
            }
            VmConfig clone = config(dir.resolve("restore-kubevmm-" + run), images, mib, "bench_snap_clone_" + run, "52:54:00:00:02:0" + run % 10);
            long t1 = System.nanoTime();
            VmmInstance vm = snapshotter.restore(snap.name(), clone);
            try {
                vm.resume();
                while (vm.runState() != RunState.RUNNING) {
                    Thread.sleep(1);
                }
                kubevmm.add((System.nanoTime() - t1) / 1_000_000);
            } finally {
                vm.destroy();
            }
            System.out.printf("  restore %d MiB run %d: raw %d ms | raw mapped-ram %s | kubevmm (verified) %d ms%n", mib, run, raw.getLast(),
                    mapped.isEmpty() ? "-" : mapped.getLast() + " ms", kubevmm.getLast());
        }
        System.out.printf("%nrestore to running, %d MiB (state %.1f MB), p50 of %d: raw %d ms, raw mapped-ram %s, kubevmm %d ms"
                        + " (sha256 of every artifact checked)%n",
                mib, snap.manifest().sizeBytes() / 1e6, runs, p50(raw), mapped.isEmpty() ? "-" : p50(mapped) + " ms", p50(kubevmm));
        ObjectNode restore = json.putObject("restore" + mib + "MiB");
        restore.put("rawMillisP50", p50(raw)).put("kubevmmMillisP50", p50(kubevmm));
        if (!mapped.isEmpty()) {
            restore.put("rawMappedRamMillisP50", p50(mapped));
        }
        Files.deleteIfExists(mappedFile);
    }

    /**
     * kubevmm only (raw QEMU has no way to freeze disks at the memory's instant): the same guest
     * with a 64 MiB qcow2 disk it writes to, so the pause includes switching the disk to a new
     * overlay while the vCPUs are stopped.
     */
    private static List<Sample> withDisk(QemuEngine engine, Path images, Path dir, long mib, int runs) throws Exception {
        VmConfig base = config(dir.resolve("disk"), images, mib, "bench_snap_disk", "52:54:00:00:03:01");
        VmConfig config = new VmConfig(base.id(), base.stateDir(), base.profile(), base.cpus(), base.memoryBytes(), base.kernel(),
                base.initrd(), "console=ttyS0 quiet kubevmm.workload=memcheck:32,disk:vda",
                List.of(new VmConfig.Disk("data", 64L << 20, null)), base.network(), base.macAddress());
        Snapshotter snapshotter = new Snapshotter(engine, new SnapshotStore(dir.resolve("store-disk")));
        VmmInstance vm = engine.create(config);
        List<Sample> samples = new ArrayList<>();
        try {
            vm.resume();
            awaitConsole(config, "disk read", Duration.ofSeconds(120));
            for (int run = 0; run <= runs; run++) {
                StoredSnapshot snap = snapshotter.snapshotFullState("disk-" + run, vm, new SnapshotDetails(config.id(), "bench",
                        JsonNodeFactory.instance.objectNode(), SnapshotType.FullState, Instant.now()));
                snapshotter.delete(snap.name(), vm, null);
                if (run > 0) {
                    samples.add(new Sample(snap.manifest().pauseMillis(), snap.manifest().durationMillis(), snap.manifest().sizeBytes()));
                    System.out.printf("  %4d MiB + disk run %d: kubevmm pause %3d ms total %6d ms %6.1f MB%n", mib, run,
                            samples.getLast().pauseMillis(), samples.getLast().totalMillis(), samples.getLast().sizeBytes() / 1e6);
                }
            }
        } finally {
            vm.destroy();
        }
        return samples;
    }

    private static String[] row(long mib, String path, List<Sample> samples) {
        return new String[]{mib + " MiB", path, p50(samples.stream().map(Sample::pauseMillis).toList()) + " ms",
                samples.stream().mapToLong(Sample::pauseMillis).max().orElse(0) + " ms",
                p50(samples.stream().map(Sample::totalMillis).toList()) + " ms",
                String.format(Locale.ROOT, "%.1f MB", p50(samples.stream().map(Sample::sizeBytes).toList()) / 1e6)};
    }

    private static ObjectNode summary(List<Sample> samples) {
        return JsonNodeFactory.instance.objectNode()
                .put("pauseMillisP50", p50(samples.stream().map(Sample::pauseMillis).toList()))
                .put("pauseMillisMax", samples.stream().mapToLong(Sample::pauseMillis).max().orElse(0))
                .put("totalMillisP50", p50(samples.stream().map(Sample::totalMillis).toList()))
                .put("sizeBytesP50", p50(samples.stream().map(Sample::sizeBytes).toList()));
    }

    private static long p50(List<Long> values) {
        if (values.isEmpty()) {
            return 0;
        }
        List<Long> sorted = values.stream().sorted().toList();
        return sorted.get((sorted.size() - 1) / 2);
    }

    private static VmConfig config(Path dir, Path images, long mib, String id, String mac) {
        return new VmConfig(id, dir, VmConfig.Profile.MICROVM, 1, mib << 20,
                images.resolve("vmlinuz").toAbsolutePath(), images.resolve("initrd.img").toAbsolutePath(),
                "console=ttyS0 quiet kubevmm.workload=memcheck:32", List.of(), VmConfig.NetworkMode.NONE, mac);
    }

    private static void awaitConsole(VmConfig config, String text, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(config.consoleLog()) && Files.readString(config.consoleLog(), StandardCharsets.ISO_8859_1).contains(text)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("guest did not print '" + text + "' within " + timeout);
    }
}
