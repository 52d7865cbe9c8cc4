package io.kubevmm.node.engine.qemu;

import io.kubevmm.node.engine.EmulatorUnreachableException;
import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.engine.EngineException.Reason;
import io.kubevmm.node.engine.ProcessLiveness;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.engine.VmmInstance;
import io.kubevmm.node.qmp.QmpClient;
import io.kubevmm.node.qmp.QmpException;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * QEMU processes: started detached from the node runtime's session with their monitor
 * connected, or found again (adopted) after a node runtime restart. What to start is
 * {@link QemuEngine}'s to say.
 */
final class QemuProcesses {
    private static final Duration QMP_READY_TIMEOUT = Duration.ofSeconds(30);

    private final String binary;
    private final DiskLayers layers;

    QemuProcesses(String binary, DiskLayers layers) {
        this.binary = binary;
        this.layers = layers;
    }

    /** Starts QEMU with {@code args} in a session of its own, and connects to its monitor. */
    QemuInstance start(VmConfig config, List<String> args) throws EngineException {
        List<String> cmd = new ArrayList<>();
        // A new session: a signal to the node runtime's terminal or process group must not reach guests.
        cmd.add("setsid");
        cmd.addAll(args);
        Process process;
        try {
            Files.writeString(config.emulatorLog(), "--- " + java.time.Instant.now() + " " + String.join(" ", args) + "\n",
                    StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            process = new ProcessBuilder(cmd)
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    // Files, not pipes: QEMU must outlive the node runtime without dying of SIGPIPE.
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(config.emulatorLog().toFile()))
                    .redirectErrorStream(true)
                    .start();
        } catch (IOException e) {
            throw new EngineException(Reason.EmulatorFailed, "cannot start " + binary + ": " + e.getMessage(), e);
        }
        QmpClient qmp = awaitQmp(config, process);
        QemuFeatures features;
        try {
            features = QemuFeatures.query(qmp, QMP_READY_TIMEOUT);
        } catch (QmpException e) {
            qmp.close();
            process.destroyForcibly();
            throw new EngineException(Reason.EmulatorFailed, "QEMU of " + config.id() + " does not say what it is: " + e.getMessage(), e);
        }
        return new QemuInstance(config, process.toHandle(), qmp, features, layers,
                action -> process.onExit().thenAccept(p -> action.accept(p.exitValue())));
    }

    private QmpClient awaitQmp(VmConfig config, Process process) throws EngineException {
        long deadline = System.nanoTime() + QMP_READY_TIMEOUT.toNanos();
        QmpException last = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new EngineException(Reason.EmulatorFailed, "QEMU exited at start (exit code " + process.exitValue()
                        + "): " + logTail(config.emulatorLog()));
            }
            if (Files.exists(config.qmpSocket())) {
                try {
                    return QmpClient.connect(config.qmpSocket(), Duration.ofSeconds(2));
                } catch (QmpException e) {
                    last = e;
                }
            }
            try {
                process.waitFor(10, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        process.destroyForcibly();
        throw new EngineException(Reason.EmulatorFailed, "QEMU did not open its QMP socket within " + QMP_READY_TIMEOUT
                + (last == null ? "" : ": " + last.getMessage()), last);
    }

    /**
     * The QEMU an earlier node runtime left running for {@code config}, found through its pid file
     * and checked to serve this VM's monitor socket.
     */
    Optional<VmmInstance> adopt(VmConfig config) throws EmulatorUnreachableException {
        Optional<ProcessHandle> process = readPid(config.pidFile())
                .flatMap(ProcessHandle::of)
                .filter(ProcessLiveness::running)
                .filter(p -> belongsTo(p, config));
        if (process.isEmpty()) {
            return Optional.empty();
        }
        ProcessHandle handle = process.get();
        try {
            QmpClient qmp = QmpClient.connect(config.qmpSocket(), Duration.ofSeconds(5));
            // Not our child: no exit code, only the fact that it ended. It may be an older QEMU than
            // the binary now installed: it is driven by what it says it is.
            QemuFeatures features;
            try {
                features = QemuFeatures.query(qmp, Duration.ofSeconds(5));
            } catch (QmpException e) {
                qmp.close();
                throw e;
            }
            return Optional.of(new QemuInstance(config, handle, qmp, features, layers, action -> ProcessLiveness.exited(handle).thenRun(() -> action.accept(-1))));
        } catch (QmpException e) {
            // No greeting is no proof of a dead guest (the monitor may be busy or held by another
            // client): the process may hold the guest's only memory, so it stays.
            throw new EmulatorUnreachableException(handle, "QEMU " + handle.pid() + " of " + config.id()
                    + " is alive but its QMP monitor does not answer (" + e.getMessage() + ")", e);
        }
    }

    /** Guards re-adoption against a recycled pid: the process must be QEMU serving this VM's socket. */
    private static boolean belongsTo(ProcessHandle process, VmConfig config) {
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(process.pid()), "cmdline"));
            return new String(raw, StandardCharsets.UTF_8).contains(config.qmpSocket().toString());
        } catch (IOException e) {
            return false;
        }
    }

    private static Optional<Long> readPid(Path pidFile) {
        try {
            return Optional.of(Long.parseLong(Files.readString(pidFile).strip()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** The last lines QEMU printed, joined into one line for a condition message. */
    static String logTail(Path log) {
        try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "r")) {
            long length = file.length();
            long from = Math.max(0, length - 2048);
            byte[] buf = new byte[(int) (length - from)];
            file.seek(from);
            file.readFully(buf);
            String[] lines = new String(buf, StandardCharsets.UTF_8).split("\n");
            List<String> tail = new ArrayList<>();
            for (int i = lines.length - 1; i >= 0 && tail.size() < 3; i--) {
                String line = lines[i].strip();
                if (line.startsWith("--- ")) {
                    break; // our own launch marker: nothing older belongs to this run
                }
                if (!line.isEmpty()) {
                    tail.addFirst(line);
                }
            }
            return String.join(" / ", tail);
        } catch (IOException e) {
            return "";
        }
    }
}
