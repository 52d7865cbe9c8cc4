package io.kubevmm.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kubevmm.node.engine.RunState;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.engine.VmmInstance;
import io.kubevmm.node.engine.qemu.QemuEngine;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Suspend to disk and resume of a memcheck guest, four ways in the same run, each guest
 * suspended and resumed {@code runs} times in a row (every resume is the next suspend's guest):
 * kubevmm (the engine's {@code saveState} and {@code restore}: a legacy stream through
 * {@code exec:cat}), and plain QMP into a {@code file:} URI without mapped-ram (off), with
 * mapped-ram (on), and with mapped-ram and 2 multifd channels. Save is from the {@code migrate}
 * command (vCPUs already stopped) to completed; resume from the new QEMU's start to its vCPUs
 * running. After the last resume each guest must pass memcheck again.
 */
final class SuspendBench {
    private static final Pattern MEMCHECK_OK = Pattern.compile("memcheck ok (\\d+)");

    record Way(String name, boolean mappedRam, int multifd) { }

    record Sample(long saveMillis, long resumeMillis, long sizeBytes, long allocatedBytes) { }

    private SuspendBench() { }

    static List<String[]> run(QemuEngine engine, Path images, Path work, long mib, int runs, ObjectNode json) throws Exception {
        List<Way> ways = List.of(new Way("kubevmm", false, 0), new Way("file", false, 0),
                new Way("mapped-ram", true, 0), new Way("mapped-ram+mfd2", true, 2));
        List<String[]> table = new ArrayList<>();
        ObjectNode out = json.putObject("suspend" + mib + "MiB");
        for (Way way : ways) {
            List<Sample> samples;
            String verdict;
            try {
                samples = new ArrayList<>();
                verdict = way.name().equals("kubevmm") ? kubevmm(engine, images, work, mib, runs, samples)
                        : raw(engine, images, work, mib, runs, way, samples);
            } catch (Exception e) {
                System.out.printf("  suspend %s failed: %s%n", way.name(), e.getMessage());
                table.add(new String[]{way.name(), "failed: " + e.getMessage(), "", "", ""});
                out.put(way.name(), "failed: " + e.getMessage());
                continue;
            }
            table.add(new String[]{way.name(), p50(samples.stream().map(Sample::saveMillis).toList()) + " ms",
                    p50(samples.stream().map(Sample::resumeMillis).toList()) + " ms",
                    String.format(Locale.ROOT, "%.1f / %.1f MB", samples.getLast().sizeBytes() / 1e6, samples.getLast().allocatedBytes() / 1e6),
                    verdict});
            out.putObject(way.name()).put("saveMillisP50", p50(samples.stream().map(Sample::saveMillis).toList()))
                    .put("resumeMillisP50", p50(samples.stream().map(Sample::resumeMillis).toList()))
                    .put("sizeBytes", samples.getLast().sizeBytes()).put("allocatedBytes", samples.getLast().allocatedBytes())
                    .put("guest", verdict);
        }
        return table;
    }

    private static String kubevmm(QemuEngine engine, Path images, Path work, long mib, int runs, List<Sample> samples) throws Exception {
        VmConfig config = config(work.resolve("suspend-kubevmm"), images, mib);
        VmmInstance vm = engine.create(config);
        try {
            vm.resume();
            int pass = awaitNextPass(config.consoleLog(), -1);
            for (int run = 1; run <= runs; run++) {
                long t0 = System.nanoTime();
                long size = vm.saveState(); // stops the vCPUs, saves, ends the process
                long save = (System.nanoTime() - t0) / 1_000_000;
                long allocated = RawQemu.allocatedBytes(config.suspendStateFile());
                long t1 = System.nanoTime();
                vm = engine.restore(config);
                vm.resume();
                while (vm.runState() != RunState.RUNNING) {
                    Thread.sleep(1);
                }
                long resume = (System.nanoTime() - t1) / 1_000_000;
                Files.deleteIfExists(config.suspendStateFile());
                samples.add(new Sample(save, resume, size, allocated));
                print("kubevmm", run, samples.getLast());
            }
            awaitNextPass(config.consoleLog(), pass);
            return verdict(config.consoleLog());
        } finally {
            vm.destroy();
        }
    }

    private static String raw(QemuEngine engine, Path images, Path work, long mib, int runs, Way way, List<Sample> samples)
            throws Exception {
        Map<String, Boolean> caps = way.multifd() > 0 ? Map.of("mapped-ram", true, "multifd", true)
                : Map.of("mapped-ram", way.mappedRam(), "multifd", false);
        VmConfig config = config(work.resolve("suspend-" + way.name() + "-0"), images, mib);
        RawQemu vm = RawQemu.start(engine, config, false);
        List<Path> consoles = new ArrayList<>(List.of(config.consoleLog()));
        try {
            vm.qmp.execute("cont");
            int pass = awaitNextPass(config.consoleLog(), -1);
            for (int run = 1; run <= runs; run++) {
                Path state = work.resolve("suspend-" + way.name() + "-" + run + ".state");
                vm.setCapabilities(caps);
                Map<String, Object> params = new java.util.LinkedHashMap<>();
                params.put("max-bandwidth", RawQemu.LOCAL_BANDWIDTH);
                if (way.multifd() > 0) {
                    params.put("multifd-channels", way.multifd());
                }
                vm.qmp.execute("migrate-set-parameters", params);
                vm.qmp.execute("stop");
                long t0 = System.nanoTime();
                vm.qmp.execute("migrate", Map.of("uri", "file:" + state));
                vm.awaitMigration();
                long save = (System.nanoTime() - t0) / 1_000_000;
                vm.destroy();
                VmConfig next = config(work.resolve("suspend-" + way.name() + "-" + run), images, mib);
                long t1 = System.nanoTime();
                vm = RawQemu.start(engine, next, true);
                vm.loadAndRun("file:" + state, caps, way.multifd());
                long resume = (System.nanoTime() - t1) / 1_000_000;
                consoles.add(next.consoleLog());
                samples.add(new Sample(save, resume, Files.size(state), RawQemu.allocatedBytes(state)));
                Files.delete(state);
                print(way.name(), run, samples.getLast());
            }
            awaitNextPass(consoles.getLast(), pass);
            String verdict = "memcheck ok";
            for (Path console : consoles) {
                if (!verdict(console).equals("memcheck ok")) {
                    verdict = verdict(console);
                }
            }
            return verdict;
        } finally {
            vm.destroy();
        }
    }

    private static void print(String way, int run, Sample s) {
        System.out.printf(Locale.ROOT, "  suspend %-16s run %d: save %4d ms, resume to running %4d ms, %6.1f MB (%6.1f MB on disk)%n",
                way, run, s.saveMillis(), s.resumeMillis(), s.sizeBytes() / 1e6, s.allocatedBytes() / 1e6);
    }

    /** Waits until the console shows a memcheck pass after {@code after}; returns it. */
    private static int awaitNextPass(Path console, int after) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(console)) {
                Matcher m = MEMCHECK_OK.matcher(Files.readString(console, StandardCharsets.ISO_8859_1));
                int last = -1;
                while (m.find()) {
                    last = Integer.parseInt(m.group(1));
                }
                if (last > after) {
                    return last;
                }
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("no memcheck pass after " + after + " in " + console);
    }

    private static String verdict(Path console) throws Exception {
        return Files.readString(console, StandardCharsets.ISO_8859_1).contains("memcheck BAD") ? "memcheck BAD" : "memcheck ok";
    }

    private static long p50(List<Long> values) {
        List<Long> sorted = values.stream().sorted().toList();
        return sorted.isEmpty() ? 0 : sorted.get((sorted.size() - 1) / 2);
    }

    private static VmConfig config(Path dir, Path images, long mib) {
        return new VmConfig("bench_suspend", dir, VmConfig.Profile.MICROVM, 1, mib << 20,
                images.resolve("vmlinuz").toAbsolutePath(), images.resolve("initrd.img").toAbsolutePath(),
                "console=ttyS0 quiet kubevmm.workload=memcheck:32", List.of(), VmConfig.NetworkMode.NONE, "52:54:00:00:04:01");
    }
}
