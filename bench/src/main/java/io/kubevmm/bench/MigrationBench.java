package io.kubevmm.bench;

import io.kubevmm.api.v1alpha1.VMMigrationSpec;
import io.kubevmm.node.engine.MigrationTotals;
import io.kubevmm.node.engine.RunState;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.engine.VmmInstance;
import io.kubevmm.node.engine.qemu.QemuEngine;
import io.kubevmm.node.engine.MigrationSample;
import io.kubevmm.node.migration.MigrationStreams;
import io.kubevmm.node.migration.OutgoingRun;
import io.kubevmm.node.transfer.tunnel.TunnelClient;
import io.kubevmm.node.transfer.tunnel.TunnelSecrets;
import io.kubevmm.node.transfer.tunnel.TunnelServer;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Live migration of one 256 MiB guest back and forth between two emulators on this host, each
 * run alternating two paths with the same settings and the same executor (policy included):
 * direct (source QEMU straight into the target's unix socket) and kubevmm (through the
 * authenticated tunnel exactly as the node runtimes use it, {@link MigrationStreams}: the
 * authenticated TCP connection handed to both QEMUs when this JVM can pass descriptors, else the
 * relay: unix socket, source relay, TCP, target relay, unix socket). Scenarios:
 * an idle guest, and a guest dirtying memory faster than the bandwidth cap (strategy Auto).
 *
 * <p>{@code --multifd N} compares instead, through the tunnel relay both times and with pre-copy
 * (QEMU 10.0 does not combine multifd with post-copy), one stream against the main stream plus N
 * multifd channels, each channel a tunnel connection of its own; without a bandwidth cap, since a
 * cap is what one stream already reaches.
 *
 * <p>{@code --preempt} compares post-copy (strategy PostCopy: the switch comes after the first
 * pass) without and with {@code postcopy-preempt}, both through the tunnel relay (the preempt
 * channel is a connection of its own), and, where descriptors can be passed, post-copy over a
 * handed-off connection: what the node runtimes do without preempt.
 */
public final class MigrationBench {

    record Scenario(String name, String workload, long bandwidthMiBps) { }

    record Run(String path, MigrationTotals totals, boolean converged) {
        double throughputMBps() {
            long copying = Math.max(1, totals.totalTimeMillis() - totals.setupTimeMillis());
            return totals.transferredBytes() / 1e6 / (copying / 1000.0);
        }
    }

    public static void main(String[] args) throws Exception {
        int runs = 10;
        Path images = Path.of("guest/out");
        long memoryMiB = 256;
        boolean forceRelay = false;
        int multifd = 0;
        boolean preempt = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--images" -> images = Path.of(args[++i]);
                case "--memory" -> memoryMiB = Long.parseLong(args[++i]);
                case "--relay" -> forceRelay = true;
                case "--multifd" -> multifd = Integer.parseInt(args[++i]);
                case "--preempt" -> preempt = true;
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (use --runs N --memory MiB [--relay] [--multifd CHANNELS | --preempt])");
            }
        }
        QemuEngine engine = new QemuEngine("qemu-system-x86_64", "qemu-img", QemuEngine.AcceleratorChoice.AUTO);
        var scenarios = multifd > 0
                ? List.of(new Scenario("idle", "memcheck:16", 0), new Scenario("write-heavy", "memcheck:16,dirty:128:400", 0))
                : List.of(new Scenario("idle", "memcheck:16", 0), new Scenario("write-heavy", "memcheck:16,dirty:128:400", 64));
        if (multifd > 0 && !engine.features().supports("multifd")) {
            throw new IllegalStateException("QEMU " + engine.version() + " has no multifd migration capability");
        }
        if (preempt && !engine.features().hasPostcopyPreempt()) {
            throw new IllegalStateException("QEMU " + engine.version() + " has no postcopy-preempt the engine uses");
        }
        boolean canHandOff = MigrationStreams.handOff(null, engine);
        List<String> paths = multifd > 0 ? List.of("relay", "multifd" + multifd)
                : preempt ? (canHandOff ? List.of("relay", "preempt", "hand-off") : List.of("relay", "preempt"))
                : List.of("direct", "kubevmm");
        if (preempt) {
            scenarios = List.of(new Scenario("idle", "memcheck:16", 64), new Scenario("write-heavy", "memcheck:16,dirty:128:400", 64));
        }
        System.out.printf("migration bench: %d MiB microvm guest, %s, QEMU %s, %d runs per path and scenario%n",
                memoryMiB, engine.accelerator().apiName(), engine.version(), runs);
        try (TunnelServer server = new TunnelServer(new InetSocketAddress("127.0.0.1", 0), null)) {
            server.start();
            boolean handOff = multifd == 0 && !preempt && !forceRelay && canHandOff && server.canHandOff();
            System.out.printf("kubevmm path: %s (%s)%n", MigrationStreams.mode(handOff), handOff
                    ? "authenticated TCP connection handed to both QEMUs, no byte through the JVM"
                    : multifd > 0 ? "both paths: multifd channels are connections of their own, relayed"
                    : preempt ? "relay and preempt relayed (the preempt channel is a connection of its own); hand-off for comparison"
                    : forceRelay ? "forced with --relay" : "descriptor passing unavailable: " + io.kubevmm.node.qmp.FdPassing.unavailableReason());
            for (Scenario scenario : scenarios) {
                List<Run> results = scenario(engine, server, images, memoryMiB, scenario, runs, handOff, paths, multifd, preempt);
                report(scenario, results, MigrationStreams.mode(handOff), paths);
            }
        }
    }

    private static List<Run> scenario(QemuEngine engine, TunnelServer server, Path images, long memoryMiB, Scenario scenario,
                                      int runs, boolean handOffAll, List<String> paths, int multifd, boolean postCopy)
            throws Exception {
        Path work = Files.createTempDirectory("kubevmm-bench-migration-" + scenario.name());
        VmConfig[] ends = {config(work.resolve("a"), images, memoryMiB, scenario.workload()),
                config(work.resolve("b"), images, memoryMiB, scenario.workload())};
        VmmInstance source = engine.create(ends[0]);
        source.resume();
        awaitConsole(ends[0], scenario.workload().contains("dirty") ? "dirty " : "memcheck ok", Duration.ofSeconds(90));
        List<Run> results = new ArrayList<>();
        int at = 0;
        for (int i = 0; i < paths.size() * runs; i++) {
            String path = paths.get(i % paths.size());
            boolean tunnelled = !path.equals("direct");
            int channels = path.startsWith("multifd") ? multifd : 0;
            boolean preempt = path.equals("preempt");
            boolean handOff = handOffAll || path.equals("hand-off");
            VmConfig target = ends[1 - at];
            VmmInstance arriving = engine.createIncoming(target);
            Path incoming = target.stateDir().resolve("incoming.sock");
            TunnelServer.Registration registration = null;
            TunnelClient.Endpoint endpoint = null;
            OutgoingRun.Stream stream;
            if (tunnelled) {
                // Exactly what TargetMigrations and SourceMigrations do.
                byte[] secret = TunnelSecrets.generate();
                String id = "bench-" + scenario.name() + "-" + i;
                InetSocketAddress address = new InetSocketAddress("127.0.0.1", server.port());
                TunnelServer.Destination memory = MigrationStreams.incoming(arriving.incoming(), incoming, multifd == 0, handOff, channels,
                        preempt);
                registration = server.registerDestinations(id, secret, Map.of(MigrationStreams.CHANNEL, memory));
                if (handOff) {
                    stream = MigrationStreams.outgoing(address, id, secret);
                } else {
                    endpoint = MigrationStreams.relayEndpoint(ends[at].stateDir().resolve("outgoing.sock"), address, id, secret, null);
                    stream = MigrationStreams.outgoing(endpoint, channels, preempt);
                }
            } else {
                arriving.incoming().listen(incoming, true);
                stream = OutgoingRun.throughSocket(incoming);
            }
            VMMigrationSpec spec = new VMMigrationSpec();
            spec.setStrategy(multifd > 0 ? VMMigrationSpec.Strategy.PreCopy
                    : postCopy ? VMMigrationSpec.Strategy.PostCopy : VMMigrationSpec.Strategy.Auto);
            spec.setMaxDowntimeMillis(300L);
            spec.setBandwidthMiBps(scenario.bandwidthMiBps());
            spec.setCompletionTimeoutSeconds(120L);
            spec.setAutoConverge(true);
            OutgoingRun run = new OutgoingRun("bench", OutgoingRun.settings(spec), stream, null, () -> null, () -> null, QUIET);
            boolean converged;
            MigrationTotals totals;
            try {
                totals = run.run(source.outgoing());
                converged = true;
                if (endpoint != null && !endpoint.drain(Duration.ofSeconds(30))) {
                    System.out.printf("  %s run %d: relayed connections still open 30 s after QEMU completed%n", path, i / paths.size() + 1);
                }
            } catch (RuntimeException e) {
                System.out.printf("  %s run %d did not complete: %s%n", path, i / paths.size() + 1, e.getMessage());
                totals = new MigrationTotals(0, 0, 0, 0, 0);
                converged = false;
            } finally {
                if (endpoint != null) {
                    endpoint.close();
                }
                if (registration != null) {
                    registration.close();
                }
            }
            if (converged) {
                awaitRunning(arriving);
                source.destroy();
                source = arriving;
                at = 1 - at;
            } else {
                arriving.destroy();
            }
            results.add(new Run(path, totals, converged));
            System.out.printf(Locale.ROOT, "  %-8s run %2d: downtime %4d ms, total %6d ms, %7.1f MB sent, %6.1f MB/s, passes %d%s%n",
                    path, i / paths.size() + 1, totals.downtimeMillis(), totals.totalTimeMillis(), totals.transferredBytes() / 1e6,
                    converged ? new Run(path, totals, true).throughputMBps() : 0.0, totals.iterations(),
                    registration == null ? "" : ", " + registration.connections() + " tunnelled connection(s)");
        }
        boolean intact = !(Files.readString(ends[0].consoleLog(), StandardCharsets.ISO_8859_1)
                + Files.readString(ends[1].consoleLog(), StandardCharsets.ISO_8859_1)).contains("memcheck BAD");
        System.out.printf("  guest memory after %d migrations: %s%n", paths.size() * runs, intact ? "memcheck ok" : "memcheck BAD");
        source.destroy();
        return results;
    }

    private static void report(Scenario scenario, List<Run> results, String mode, List<String> paths) {
        System.out.printf("%n%s (%s, cap %s):%n", scenario.name(), scenario.workload(),
                scenario.bandwidthMiBps() == 0 ? "none" : scenario.bandwidthMiBps() + " MiB/s");
        System.out.printf("  %-8s %10s %12s %12s %14s %10s%n", "path", "converged", "downtime p50", "total p50", "throughput p50", "passes p50");
        double[] throughput = new double[paths.size()];
        long[] downtime = new long[paths.size()];
        int k = 0;
        for (String path : paths) {
            List<Run> done = results.stream().filter(r -> r.path().equals(path) && r.converged()).toList();
            long n = results.stream().filter(r -> r.path().equals(path)).count();
            downtime[k] = p50(done.stream().map(r -> (double) r.totals().downtimeMillis()).toList()).longValue();
            throughput[k] = p50(done.stream().map(Run::throughputMBps).toList());
            System.out.printf(Locale.ROOT, "  %-8s %7d/%-2d %10d ms %9d ms %9.1f MB/s %10d%n", path, done.size(), n, downtime[k],
                    p50(done.stream().map(r -> (double) r.totals().totalTimeMillis()).toList()).longValue(), throughput[k],
                    p50(done.stream().map(r -> (double) r.totals().iterations()).toList()).longValue());
            k++;
        }
        System.out.printf(Locale.ROOT, "  %s vs %s (%s): throughput x%.2f, downtime p50 %+d ms%n", paths.get(1),
                paths.get(0), mode, throughput[0] == 0 ? 0 : throughput[1] / throughput[0], downtime[1] - downtime[0]);
    }

    private static Double p50(List<Double> values) {
        if (values.isEmpty()) {
            return 0.0;
        }
        List<Double> sorted = values.stream().sorted().toList();
        return sorted.get((sorted.size() - 1) / 2);
    }

    private static VmConfig config(Path dir, Path images, long memoryMiB, String workload) {
        return new VmConfig("bench_migration", dir, VmConfig.Profile.MICROVM, 1, memoryMiB << 20,
                images.resolve("vmlinuz").toAbsolutePath(), images.resolve("initrd.img").toAbsolutePath(),
                "console=ttyS0 quiet kubevmm.workload=" + workload, List.of(), VmConfig.NetworkMode.NONE, "52:54:00:00:00:42");
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

    private static void awaitRunning(VmmInstance target) throws InterruptedException {
        for (int i = 0; i < 500 && target.runState() != RunState.RUNNING; i++) {
            Thread.sleep(20);
        }
    }

    private static final OutgoingRun.Progress QUIET = new OutgoingRun.Progress() {
        @Override public void transferStarted() { }
        @Override public void sample(MigrationSample sample, boolean postCopy) { }
        @Override public void decision(String reason, String what) { }
    };
}
