package io.kubevmm.node.engine.qemu;

import io.kubevmm.node.qmp.QemuVersion;
import io.kubevmm.node.qmp.QmpClient;
import io.kubevmm.node.qmp.QmpException;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds out what a QEMU binary is before any guest runs on it: its version ({@code --version}),
 * confirmed over QMP together with its migration capabilities by a guestless QEMU
 * ({@code -machine none}), and whether KVM really works. One probe per binary per JVM; a
 * launched guest whose QEMU says otherwise (the binary was replaced) has it probed afresh.
 */
final class QemuProbe {
    private static final Logger LOG = Logger.getLogger(QemuProbe.class);
    private static final Pattern VERSION = Pattern.compile("version (\\d+)\\.(\\d+)\\.?(\\d*)");
    private static final Duration QMP_TIMEOUT = Duration.ofSeconds(10);
    private static final Map<String, QemuFeatures> PROBED = new ConcurrentHashMap<>();

    private QemuProbe() { }

    /** The binary's features, probed on first use. */
    static QemuFeatures features(String binary) {
        return PROBED.computeIfAbsent(binary, QemuProbe::probe);
    }

    /** Probes again, replacing what was cached (the binary changed on disk). */
    static QemuFeatures reprobe(String binary) {
        QemuFeatures fresh = probe(binary);
        PROBED.put(binary, fresh);
        return fresh;
    }

    private static QemuFeatures probe(String binary) {
        QemuVersion printed = versionOf(binary);
        QemuFeatures features = askQmp(binary);
        if (!features.version().equals(printed)) {
            throw new IllegalStateException(binary + " --version says " + printed + " but its QMP says " + features.version()
                    + "; is the binary being replaced?");
        }
        return features;
    }

    static QemuVersion versionOf(String binary) {
        String out = runQuietly(List.of(binary, "--version"));
        return parseVersion(out).orElseThrow(() ->
                new IllegalStateException("cannot tell the version of " + binary + " (is qemu-system-x86 installed?): " + out));
    }

    static java.util.Optional<QemuVersion> parseVersion(String versionOutput) {
        Matcher m = VERSION.matcher(versionOutput);
        if (!m.find()) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(new QemuVersion(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                m.group(3).isEmpty() ? 0 : Integer.parseInt(m.group(3))));
    }

    /** A QEMU with no machine, halted, answering QMP: enough to ask what it can do. */
    private static QemuFeatures askQmp(String binary) {
        Path dir = null;
        Process qemu = null;
        try {
            dir = Files.createTempDirectory("kubevmm-qemu-probe");
            Path socket = dir.resolve("qmp.sock");
            qemu = new ProcessBuilder(binary, "-machine", "none", "-nodefaults", "-no-user-config", "-display", "none", "-S",
                    "-qmp", "unix:" + socket + ",server=on,wait=off")
                    .redirectErrorStream(true).redirectOutput(dir.resolve("qemu.log").toFile()).start();
            try (QmpClient qmp = QmpClient.connect(socket, QMP_TIMEOUT)) {
                QemuFeatures features = QemuFeatures.query(qmp, QMP_TIMEOUT);
                try {
                    qmp.execute("quit", Map.of(), QMP_TIMEOUT);
                } catch (QmpException e) {
                    // it is killed below anyway
                }
                return features;
            }
        } catch (IOException | QmpException e) {
            String log = "";
            try {
                log = dir == null ? "" : Files.readString(dir.resolve("qemu.log")).strip();
            } catch (IOException ignored) {
                // no log to add
            }
            throw new IllegalStateException("cannot ask " + binary + " what it supports: " + e.getMessage()
                    + (log.isEmpty() ? "" : " (QEMU said: " + log + ")"), e);
        } finally {
            if (qemu != null) {
                qemu.destroyForcibly();
                try {
                    qemu.waitFor(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            deleteDir(dir);
        }
    }

    private static void deleteDir(Path dir) {
        if (dir == null) {
            return;
        }
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.deleteIfExists(f);
            }
            Files.deleteIfExists(dir);
        } catch (IOException ignored) {
            // temp dir; harmless if left
        }
    }

    /**
     * KVM counts as usable only if a vCPU configured like our guests' ({@code -cpu host}) really
     * executes code: some hosts (nested virtualization) open /dev/kvm and create VMs fine, then
     * fail on the first vCPU run. The probe is a 64 KiB firmware whose reset vector writes 'K'
     * to the serial port and halts. A /dev/kvm served by PVM (the kvm_pvm module: virtualization
     * without hardware support, inside a cloud VM) passes that probe yet runs only kernels built as
     * PVM guests; an ordinary guest kernel stops early in boot, so PVM counts as unusable.
     */
    static boolean kvmUsable(String binary) {
        Path kvm = Path.of("/dev/kvm");
        if (!Files.isReadable(kvm) || !Files.isWritable(kvm)) {
            return false;
        }
        if (Files.isDirectory(Path.of("/sys/module/kvm_pvm"))) {
            LOG.info("/dev/kvm is provided by PVM (module kvm_pvm), which boots only PVM guest kernels; using TCG");
            return false;
        }
        Path dir = null;
        Process qemu = null;
        try {
            dir = Files.createTempDirectory("kubevmm-kvm-probe");
            byte[] firmware = new byte[64 * 1024];
            byte[] resetVector = {(byte) 0xBA, (byte) 0xF8, 0x03, (byte) 0xB0, 'K', (byte) 0xEE, (byte) 0xFA, (byte) 0xF4};
            System.arraycopy(resetVector, 0, firmware, 0xFFF0, resetVector.length); // mov dx,3f8; mov al,'K'; out; cli; hlt
            Path bios = Files.write(dir.resolve("probe.bin"), firmware);
            Path serial = dir.resolve("serial.log");
            qemu = new ProcessBuilder(binary, "-machine", "microvm,accel=kvm", "-cpu", "host", "-m", "16",
                    "-nodefaults", "-no-user-config", "-display", "none", "-bios", bios.toString(),
                    "-serial", "file:" + serial).redirectErrorStream(true).redirectOutput(dir.resolve("qemu.log").toFile()).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (System.nanoTime() < deadline && qemu.isAlive()) {
                if (Files.exists(serial) && Files.size(serial) > 0) {
                    return Files.readString(serial).contains("K");
                }
                qemu.waitFor(10, TimeUnit.MILLISECONDS);
            }
            LOG.infof("KVM is present but cannot run a vCPU here (%s); using TCG",
                    Files.readString(dir.resolve("qemu.log")).strip().lines().findFirst().orElse("no output"));
            return false;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            if (qemu != null) {
                qemu.destroyForcibly();
            }
            deleteDir(dir);
        }
    }

    private static String runQuietly(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
            return p.exitValue() == 0 ? out : "failed: " + out;
        } catch (IOException | InterruptedException | IllegalThreadStateException e) {
            return "failed: " + e.getMessage();
        }
    }
}
