package io.kubevmm.bench;

import io.kubevmm.api.v1alpha1.InstanceState;
import io.kubevmm.api.v1alpha1.RestartPolicy;
import io.kubevmm.api.v1alpha1.SuspendMode;
import io.kubevmm.node.console.ReadinessWatcher;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.engine.qemu.QemuCommandLine;
import io.kubevmm.node.engine.qemu.QemuEngine;
import io.kubevmm.node.lifecycle.Lifecycle;
import io.kubevmm.node.lifecycle.VmRunner;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Raw QEMU (started running, no QMP, timed from spawn to the readiness line) against the node
 * runtime's path (create with vCPUs halted, QMP handshake, start, readiness watch), alternating
 * so both see the same machine conditions.
 */
public final class BootBench {
    private static final String MARKER = "KUBEVMM-GUEST-READY";

    public static void main(String[] args) throws Exception {
        int runs = 10;
        String profile = "microvm";
        String accel = "auto";
        long memoryMiB = 128;
        Path images = Path.of("guest/out");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--profile" -> profile = args[++i];
                case "--accelerator" -> accel = args[++i];
                case "--memory" -> memoryMiB = Long.parseLong(args[++i]);
                case "--images" -> images = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (use --runs N --profile microvm|standard --accelerator auto|kvm|tcg --memory MiB)");
            }
        }
        QemuEngine engine = new QemuEngine("qemu-system-x86_64", "qemu-img",
                QemuEngine.AcceleratorChoice.valueOf(accel.toUpperCase(Locale.ROOT)));
        Path work = Files.createTempDirectory("kubevmm-bench-boot");
        VmConfig.Profile p = profile.equals("standard") ? VmConfig.Profile.STANDARD : VmConfig.Profile.MICROVM;

        List<Long> raw = new ArrayList<>();
        List<Long> runtime = new ArrayList<>();
        try (ReadinessWatcher readiness = new ReadinessWatcher()) {
            // One unmeasured boot of each kind warms the page cache and the JIT.
            rawBoot(engine, config(work, "warm-raw", p, memoryMiB, images));
            runtimeBoot(engine, readiness, config(work, "warm-rt", p, memoryMiB, images));
            for (int i = 0; i < runs; i++) {
                raw.add(rawBoot(engine, config(work, "raw-" + i, p, memoryMiB, images)));
                runtime.add(runtimeBoot(engine, readiness, config(work, "rt-" + i, p, memoryMiB, images)));
                System.err.printf("run %d/%d: raw %d ms, node runtime %d ms%n", i + 1, runs, raw.getLast(), runtime.getLast());
            }
        }
        long rawP50 = p50(raw);
        long rtP50 = p50(runtime);
        double ratio = (double) rtP50 / rawP50;
        System.out.printf("%nboot to %s, %s, %d MiB, %s, %d runs each%n", MARKER, profile, memoryMiB,
                engine.accelerator().apiName(), runs);
        System.out.printf("%-34s %8s %8s %8s%n", "", "p50 ms", "min ms", "max ms");
        System.out.printf("%-34s %8d %8d %8d%n", "raw QEMU (baseline)", rawP50, min(raw), max(raw));
        System.out.printf("%-34s %8d %8d %8d%n", "node runtime create -> ready", rtP50, min(runtime), max(runtime));
        System.out.printf("ratio (node runtime / raw): %.3f%n", ratio);
        System.out.printf(Locale.ROOT, "{\"bench\":\"boot\",\"profile\":\"%s\",\"accelerator\":\"%s\",\"memoryMiB\":%d,\"runs\":%d,"
                        + "\"rawP50Ms\":%d,\"runtimeP50Ms\":%d,\"ratio\":%.3f,\"raw\":%s,\"runtime\":%s}%n",
                profile, engine.accelerator().apiName(), memoryMiB, runs, rawP50, rtP50, ratio, raw, runtime);
    }

    static VmConfig config(Path work, String name, VmConfig.Profile profile, long memoryMiB, Path images) {
        return new VmConfig("bench_" + name, work.resolve(name), profile, 1, memoryMiB << 20,
                images.resolve("vmlinuz").toAbsolutePath(), images.resolve("initrd.img").toAbsolutePath(),
                "console=ttyS0 quiet kubevmm.workload=idle", List.of(), VmConfig.NetworkMode.NONE, "52:54:00:00:00:02");
    }

    /** QEMU with the engine's own command line, minus the halt at start: spawn to marker. */
    static long rawBoot(QemuEngine engine, VmConfig config) throws Exception {
        Files.createDirectories(config.stateDir());
        QemuCommandLine line = engine.commandLine();
        List<String> args = new ArrayList<>(line.forCreate(config));
        args.remove("-S");
        long t0 = System.nanoTime();
        Process qemu = new ProcessBuilder(args).redirectErrorStream(true)
                .redirectOutput(config.emulatorLog().toFile()).start();
        try {
            while (!contains(config.consoleLog(), MARKER)) {
                if (!qemu.isAlive()) {
                    throw new IllegalStateException("raw QEMU exited: " + Files.readString(config.emulatorLog()));
                }
                qemu.waitFor(1, TimeUnit.MILLISECONDS);
            }
            return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        } finally {
            qemu.destroyForcibly().waitFor();
        }
    }

    private static long runtimeBoot(QemuEngine engine, ReadinessWatcher readiness, VmConfig config) throws Exception {
        VmRunner runner = new VmRunner(config, engine, readiness, VmRunner.RunnerHooks.NONE);
        long t0 = System.nanoTime();
        runner.converge(config, new Lifecycle.Desired(InstanceState.Running, SuspendMode.Memory, RestartPolicy.Always),
                MARKER, Duration.ofSeconds(5), 1);
        while (!runner.observe().ready()) {
            if (runner.observe().lastFailure() != null) {
                throw new IllegalStateException(runner.observe().lastFailure().message());
            }
            TimeUnit.MILLISECONDS.sleep(1);
        }
        long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        runner.delete().get(60, TimeUnit.SECONDS);
        return took;
    }

    private static boolean contains(Path log, String marker) throws IOException {
        if (!Files.exists(log)) {
            return false;
        }
        try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
            byte[] buf = new byte[(int) f.length()];
            f.readFully(buf);
            return new String(buf, StandardCharsets.ISO_8859_1).contains(marker);
        }
    }

    static long p50(List<Long> values) {
        List<Long> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    static long min(List<Long> v) { return v.stream().mapToLong(Long::longValue).min().orElse(0); }

    static long max(List<Long> v) { return v.stream().mapToLong(Long::longValue).max().orElse(0); }
}
