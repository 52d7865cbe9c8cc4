package io.kubevmm.node.migration;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kubevmm.node.engine.Accelerator;
import io.kubevmm.node.engine.MigrationSample;
import io.kubevmm.node.engine.MigrationStatus;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.engine.qemu.QemuCommandLine;
import io.kubevmm.node.engine.qemu.QueryMigrate;
import io.kubevmm.node.files.FileTree;
import io.kubevmm.node.qmp.QemuVersion;
import io.kubevmm.node.qmp.QmpClient;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Records real QEMU live migrations as traces for {@link MigrationPolicyTest}: two QEMUs on this
 * machine (a running microvm source and an {@code -incoming defer} target), migrated over a unix
 * socket while {@code query-migrate} is sampled every 500 ms. Not a test: traces are data, recorded
 * once and replayed by the unit tests, so the policy is checked against what QEMU really reports.
 *
 * <p>Re-record (takes ~4 minutes; needs qemu-system-x86_64 and guest/out from guest/build.sh):
 * <pre>
 * mvn -B -ntp -q -pl node-runtime -am test-compile
 * mvn -B -ntp -q -pl node-runtime dependency:build-classpath -Dmdep.outputFile=/tmp/policy-cp.txt
 * java -cp node-runtime/target/test-classes:node-runtime/target/classes:$(cat /tmp/policy-cp.txt) \
 *     io.kubevmm.node.migration.TraceRecorder node-runtime/src/test/resources/migration-traces [scenario...]
 * </pre>
 * Each scenario writes {@code <name>.jsonl}: a header line (the settings and QEMU's outcome: passes,
 * total time, downtime) then one {@link MigrationSample} per line; and {@code <name>.query-migrate.json}:
 * the last raw {@code query-migrate} reply for each status seen, for the parser's tests.
 */
public final class TraceRecorder {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MiB = 1024 * 1024;
    /** 256 MiB + 8 KiB: QEMU 7.2 under TCG corrupts migrated RAM that is a multiple of 256 KiB. */
    private static final long GUEST_RAM = 256 * MiB + 8 * 1024;
    private static final long SAMPLE_EVERY_MILLIS = 500;
    private static final long DOWNTIME_LIMIT_MILLIS = 300;
    /** The guest rewrites a 128 MiB buffer at 400 MiB/s: every page of it is dirty again within a third of a second. */
    private static final String WRITE_HEAVY = "dirty:128:400";

    /**
     * One recorded migration.
     *
     * @param postCopyAtIteration switch to post-copy at the first sample with this many bitmap syncs (0 = never)
     * @param cancelAfter         cancel a migration still in pre-copy after this long
     */
    record Scenario(String name, String workload, long maxBandwidthBytesPerSecond, boolean autoConverge,
                    int postCopyAtIteration, Duration cancelAfter) { }

    static final List<Scenario> SCENARIOS = List.of(
            new Scenario("idle-precopy", "idle", 64 * MiB, false, 0, Duration.ofSeconds(60)),
            // dirties a 64 MiB buffer at 24 MiB/s: slower than the copy, so each pass is smaller than the last
            new Scenario("light-precopy", "dirty:64:24", 64 * MiB, false, 0, Duration.ofSeconds(60)),
            new Scenario("dirty-precopy", WRITE_HEAVY, 64 * MiB, false, 0, Duration.ofSeconds(30)),
            new Scenario("dirty-autoconverge", WRITE_HEAVY, 64 * MiB, true, 0, Duration.ofSeconds(90)),
            new Scenario("dirty-postcopy", WRITE_HEAVY, 64 * MiB, false, 2, Duration.ofSeconds(60)));

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: TraceRecorder <output dir> [scenario...]; scenarios: "
                    + SCENARIOS.stream().map(Scenario::name).toList());
            System.exit(2);
        }
        Path out = Path.of(args[0]);
        List<String> wanted = Arrays.asList(args).subList(1, args.length);
        Files.createDirectories(out);
        for (Scenario scenario : SCENARIOS) {
            if (wanted.isEmpty() || wanted.contains(scenario.name())) {
                new TraceRecorder(scenario).record(out);
            }
        }
    }

    private final Scenario scenario;
    private final QemuCommandLine commandLine;

    private TraceRecorder(Scenario scenario) {
        this.scenario = scenario;
        // The version only decides RAM padding, which GUEST_RAM (not a multiple of 256 KiB) never needs.
        this.commandLine = new QemuCommandLine("qemu-system-x86_64", Accelerator.TCG, new QemuVersion(7, 2, 0));
    }

    private void record(Path out) throws Exception {
        Path dir = Files.createTempDirectory("policy-rec-" + scenario.name() + "-");
        VmConfig source = guest(dir.resolve("source"));
        VmConfig target = guest(dir.resolve("target"));
        Process sourceQemu = start(commandLine.forCreate(source), source);
        Process targetQemu = start(commandLine.forIncoming(target, true), target);
        try (QmpClient src = QmpClient.connect(source.qmpSocket(), Duration.ofSeconds(10));
             QmpClient dst = QmpClient.connect(target.qmpSocket(), Duration.ofSeconds(10))) {
            src.execute("cont");
            awaitConsole(source, scenario.workload().startsWith("dirty") ? "dirty " : "KUBEVMM-GUEST-READY");
            Thread.sleep(3000); // a few ticks of steady workload before the copy starts

            boolean postCopy = scenario.postCopyAtIteration() > 0;
            Path channel = dir.resolve("migration.sock");
            if (postCopy) {
                dst.execute("migrate-set-capabilities", capabilities(Map.of("postcopy-ram", true)));
            }
            dst.execute("migrate-incoming", Map.of("uri", "unix:" + channel));
            dst.execute("cont"); // while incoming this only sets autostart: the guest runs on arrival
            src.execute("migrate-set-capabilities", capabilities(Map.of(
                    "auto-converge", scenario.autoConverge(), "postcopy-ram", postCopy)));
            src.execute("migrate-set-parameters", Map.of(
                    "max-bandwidth", scenario.maxBandwidthBytesPerSecond(),
                    "downtime-limit", DOWNTIME_LIMIT_MILLIS));

            List<MigrationSample> samples = new ArrayList<>();
            List<ObjectNode> lines = new ArrayList<>(); // the samples with QEMU's own status word
            Map<String, JsonNode> lastReplyByStatus = new LinkedHashMap<>();
            long start = System.nanoTime();
            src.execute("migrate", Map.of("uri", "unix:" + channel));
            JsonNode reply;
            boolean switched = false;
            boolean cancelled = false;
            for (long next = SAMPLE_EVERY_MILLIS; ; next += SAMPLE_EVERY_MILLIS) {
                Thread.sleep(Math.max(0, next - millisSince(start)));
                reply = src.execute("query-migrate");
                MigrationSample sample = QueryMigrate.sample(reply, millisSince(start));
                String word = reply.path("status").asText("none");
                ObjectNode line = JSON.valueToTree(sample);
                line.put("status", word);
                samples.add(sample);
                lines.add(line);
                lastReplyByStatus.put(word, reply);
                System.out.println(scenario.name() + " " + JSON.writeValueAsString(line));
                if (sample.status().isFinal()) {
                    break;
                }
                if (postCopy && !switched && sample.status() == MigrationStatus.ACTIVE
                        && sample.iterations() >= scenario.postCopyAtIteration()) {
                    src.execute("migrate-start-postcopy");
                    switched = true;
                }
                if (!cancelled && !sample.inPostCopy() && sample.elapsedMillis() >= scenario.cancelAfter().toMillis()) {
                    src.execute("migrate_cancel");
                    cancelled = true;
                }
            }
            Thread.sleep(3000); // let the guest print a few ticks wherever it now runs
            ObjectNode header = header(reply, samples, source, target);
            write(out.resolve(scenario.name() + ".jsonl"), header, lines);
            Files.writeString(out.resolve(scenario.name() + ".query-migrate.json"),
                    JSON.writerWithDefaultPrettyPrinter().writeValueAsString(lastReplyByStatus) + "\n");
            System.out.println(header);
            quietly(() -> src.execute("quit"));
            quietly(() -> dst.execute("quit"));
        } finally {
            stop(sourceQemu);
            stop(targetQemu);
            FileTree.delete(dir);
        }
    }

    private VmConfig guest(Path stateDir) throws IOException {
        Files.createDirectories(stateDir);
        Path images = Path.of(System.getProperty("kubevmm.guest", "guest/out")).toAbsolutePath();
        return new VmConfig("trace-" + stateDir.getFileName(), stateDir, VmConfig.Profile.MICROVM, 1, GUEST_RAM,
                images.resolve("vmlinuz"), images.resolve("initrd.img"),
                "console=ttyS0 quiet kubevmm.workload=" + scenario.workload(),
                List.of(), VmConfig.NetworkMode.NONE, "52:54:00:12:34:56");
    }

    private static Process start(List<String> command, VmConfig vm) throws IOException {
        return new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(vm.emulatorLog().toFile())
                .start();
    }

    private static void awaitConsole(VmConfig vm, String line) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(vm.consoleLog()) && Files.readString(vm.consoleLog()).contains(line)) {
                return;
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("guest never printed '" + line + "' in " + vm.consoleLog());
    }

    private static Map<String, Object> capabilities(Map<String, Boolean> states) {
        return Map.of("capabilities", states.entrySet().stream()
                .map(e -> Map.of("capability", e.getKey(), "state", e.getValue()))
                .toList());
    }

    /** The settings, then QEMU's own account of the outcome and where the guest went on ticking. */
    private ObjectNode header(JsonNode finalReply, List<MigrationSample> samples, VmConfig source, VmConfig target)
            throws IOException {
        MigrationSample last = samples.getLast();
        ObjectNode header = JSON.createObjectNode();
        header.put("scenario", scenario.name());
        header.put("recordedAt", Instant.now().toString());
        header.put("guest", "microvm TCG, 1 vCPU, " + GUEST_RAM / 1024 + " KiB, kubevmm.workload=" + scenario.workload());
        header.put("maxBandwidthBytesPerSecond", scenario.maxBandwidthBytesPerSecond());
        header.put("downtimeLimitMillis", DOWNTIME_LIMIT_MILLIS);
        header.put("autoConverge", scenario.autoConverge());
        header.put("postCopyAtIteration", scenario.postCopyAtIteration());
        header.put("cancelAfterMillis", scenario.cancelAfter().toMillis());
        header.put("sampleEveryMillis", SAMPLE_EVERY_MILLIS);
        ObjectNode outcome = header.putObject("outcome");
        outcome.put("status", finalReply.path("status").asText());
        // A cancelled migration reports no ram counters any more: count passes over the whole trace.
        outcome.put("passes", samples.stream().mapToLong(MigrationSample::iterations).max().orElse(0));
        outcome.put("totalTimeMillis", finalReply.path("total-time").asLong(last.elapsedMillis()));
        if (finalReply.has("downtime")) {
            outcome.put("downtimeMillis", finalReply.path("downtime").asLong());
        }
        if (finalReply.has("setup-time")) {
            outcome.put("setupTimeMillis", finalReply.path("setup-time").asLong());
        }
        outcome.put("maxThrottlePercent", samples.stream().mapToInt(MigrationSample::throttlePercent).max().orElse(0));
        outcome.put("sourceConsoleLastLine", lastLine(source.consoleLog()));
        outcome.put("targetConsoleLastLine", lastLine(target.consoleLog()));
        return header;
    }

    private static String lastLine(Path file) throws IOException {
        if (!Files.exists(file)) {
            return "";
        }
        List<String> lines = Files.readAllLines(file).stream().filter(l -> !l.isBlank()).toList();
        return lines.isEmpty() ? "" : lines.getLast().strip();
    }

    private static void write(Path file, ObjectNode header, List<ObjectNode> samples) throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add(JSON.writeValueAsString(header));
        for (ObjectNode sample : samples) {
            lines.add(JSON.writeValueAsString(sample));
        }
        Files.write(file, lines);
    }

    private static long millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    private interface QmpCall { void run() throws Exception; }

    private static void quietly(QmpCall call) {
        try {
            call.run();
        } catch (Exception e) {
            // quit may race QEMU's exit; stop() below makes sure it is gone
        }
    }

    private static void stop(Process qemu) throws InterruptedException {
        qemu.destroy();
        if (!qemu.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
            qemu.destroyForcibly();
        }
    }
}
