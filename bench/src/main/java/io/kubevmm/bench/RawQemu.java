package io.kubevmm.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.engine.qemu.QemuCommandLine;
import io.kubevmm.node.engine.qemu.QemuEngine;
import io.kubevmm.node.qmp.QmpClient;
import io.kubevmm.node.qmp.QmpEvent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/** The baseline of the state benchmarks: the same QEMU command line, driven by plain QMP commands and nothing else. */
final class RawQemu {
    static final long LOCAL_BANDWIDTH = 64L << 30;

    final Process process;
    final QmpClient qmp;
    final AtomicReference<Instant> stop = new AtomicReference<>();
    final AtomicReference<Instant> resume = new AtomicReference<>();

    private RawQemu(Process process, QmpClient qmp) {
        this.process = process;
        this.qmp = qmp;
        qmp.addEventListener(this::onEvent);
    }

    private void onEvent(QmpEvent e) {
        if (e.name().equals("STOP")) {
            stop.set(e.timestamp());
        } else if (e.name().equals("RESUME")) {
            resume.set(e.timestamp());
        }
    }

    static RawQemu start(QemuEngine engine, VmConfig config, boolean incoming) throws Exception {
        Files.createDirectories(config.stateDir());
        Files.deleteIfExists(config.qmpSocket());
        QemuCommandLine line = engine.commandLine();
        QemuCommandLine.Launch launch = new QemuCommandLine.Launch(Map.of(), QemuCommandLine.vmGenerationId(config));
        List<String> args = incoming ? line.forIncoming(config, false, launch) : line.forCreate(config, launch);
        Process p = new ProcessBuilder(args).redirectErrorStream(true).redirectOutput(config.emulatorLog().toFile()).start();
        for (int i = 0; i < 3000 && !Files.exists(config.qmpSocket()); i++) {
            Thread.sleep(1);
        }
        return new RawQemu(p, QmpClient.connect(config.qmpSocket(), Duration.ofSeconds(10)));
    }

    SnapshotBench.Sample backgroundSnapshot(Path file) throws Exception {
        return backgroundSnapshot(file, false);
    }

    /**
     * A background snapshot into {@code file}: the legacy stream through {@code exec:cat}, or with
     * {@code mappedRam} a {@code file:} stream with RAM at fixed offsets (QEMU 9.0+).
     */
    SnapshotBench.Sample backgroundSnapshot(Path file, boolean mappedRam) throws Exception {
        setCapabilities(Map.of("background-snapshot", true, "mapped-ram", mappedRam));
        qmp.execute("migrate-set-parameters", Map.of("max-bandwidth", LOCAL_BANDWIDTH));
        Instant before = stop.get();
        long t0 = System.nanoTime();
        try {
            qmp.execute("migrate", Map.of("uri", mappedRam ? "file:" + file : "exec:cat > '" + file + "'"));
            awaitMigration();
        } finally {
            setCapabilities(Map.of("background-snapshot", false, "mapped-ram", false));
        }
        long total = (System.nanoTime() - t0) / 1_000_000;
        for (int i = 0; i < 200 && (stop.get() == before || resume.get() == null || resume.get().isBefore(stop.get())); i++) {
            Thread.sleep(5);
        }
        long pause = Duration.between(stop.get(), resume.get()).toMillis();
        return new SnapshotBench.Sample(pause, total, Files.size(file));
    }

    /** Sets migration capabilities; those this QEMU does not know are refused by QEMU, named in its error. */
    void setCapabilities(Map<String, Boolean> caps) throws Exception {
        List<Map<String, Object>> list = new java.util.ArrayList<>();
        caps.forEach((name, on) -> list.add(Map.of("capability", name, "state", on)));
        qmp.execute("migrate-set-capabilities", Map.of("capabilities", list));
    }

    /** Loads the stream at {@code uri} into this incoming QEMU with {@code caps} (they must match the writer's) and starts the vCPUs. */
    void loadAndRun(String uri, Map<String, Boolean> caps, int multifdChannels) throws Exception {
        setCapabilities(caps);
        if (multifdChannels > 0) {
            qmp.execute("migrate-set-parameters", Map.of("multifd-channels", multifdChannels));
        }
        qmp.execute("migrate-incoming", Map.of("uri", uri));
        awaitMigration();
        qmp.execute("cont");
    }

    /** Bytes the file takes on disk (a mapped-ram file is sparse: its size is the guest's RAM). */
    static long allocatedBytes(Path file) throws Exception {
        Process du = new ProcessBuilder("du", "-B1", "--", file.toString()).redirectErrorStream(true).start();
        String out = new String(du.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
        du.waitFor();
        return Long.parseLong(out.split("\\s+")[0]);
    }

    void awaitMigration() throws Exception {
        while (true) {
            JsonNode info = qmp.execute("query-migrate");
            String status = info.path("status").asText();
            if (status.equals("completed")) {
                return;
            }
            if (status.equals("failed") || status.equals("cancelled")) {
                throw new IOException("raw QEMU migration " + status + ": " + info.path("error-desc").asText());
            }
            Thread.sleep(10);
        }
    }

    void destroy() {
        try {
            qmp.execute("quit");
        } catch (Exception ignored) {
            // killed below
        }
        qmp.close();
        process.destroyForcibly();
    }
}
