package io.kubevmm.e2e;

import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A failing system test fails with what the cluster's processes logged while it ran: the byte
 * offset of every log under the cluster's {@code logs/} is noted before each test, and on failure
 * the last lines written since then by the operator and each node runtime (not the control
 * plane's components, whose logs say little about KubeVMM) are appended to the
 * failure message, so a failure can be read without digging through a whole class's logs.
 */
final class LogWindow implements BeforeEachCallback, TestExecutionExceptionHandler {
    private static final int LINES_PER_LOG = 40;
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(LogWindow.class);

    @Override
    public void beforeEach(ExtensionContext context) throws IOException {
        Path logs = logs(context);
        if (logs != null) {
            context.getStore(NS).put("offsets", offsets(logs));
        }
    }

    @Override
    public void handleTestExecutionException(ExtensionContext context, Throwable failure) throws Throwable {
        Path logs = logs(context);
        @SuppressWarnings("unchecked")
        Map<String, Long> start = context.getStore(NS).get("offsets", Map.class);
        if (logs == null || start == null) {
            throw failure;
        }
        StringBuilder window = new StringBuilder(String.valueOf(failure.getMessage()));
        window.append("\n\n--- what the cluster logged during this test (last ").append(LINES_PER_LOG).append(" lines per process) ---");
        for (Map.Entry<String, Long> now : offsets(logs).entrySet()) {
            long from = start.getOrDefault(now.getKey(), 0L);
            List<String> lines = linesSince(logs.resolve(now.getKey()), from);
            if (lines.isEmpty()) {
                continue;
            }
            window.append("\n[").append(now.getKey()).append("]");
            lines.subList(Math.max(0, lines.size() - LINES_PER_LOG), lines.size()).forEach(l -> window.append("\n  ").append(l));
        }
        AssertionError withLogs = new AssertionError(window.toString(), failure);
        withLogs.setStackTrace(failure.getStackTrace());
        throw withLogs;
    }

    private static Path logs(ExtensionContext context) {
        Object test = context.getTestInstance().orElse(null);
        if (test instanceof ClusterTestBase base && base.cluster != null) {
            return base.cluster.home().dir().resolve("logs");
        }
        return null;
    }

    private static Map<String, Long> offsets(Path logs) throws IOException {
        Map<String, Long> sizes = new TreeMap<>();
        if (!Files.isDirectory(logs)) {
            return sizes;
        }
        try (Stream<Path> files = Files.list(logs)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".log")).toList()) {
                if (!ControlPlane.COMPONENTS.contains(f.getFileName().toString().replace(".log", ""))) {
                    sizes.put(f.getFileName().toString(), Files.size(f));
                }
            }
        }
        return sizes;
    }

    private static List<String> linesSince(Path log, long offset) throws IOException {
        try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "r")) {
            // A restarted process may have truncated its log: then all of it is from this test.
            long from = offset <= file.length() ? offset : 0;
            long length = Math.min(file.length() - from, 4L << 20);
            file.seek(file.length() - length);
            byte[] bytes = new byte[(int) length];
            file.readFully(bytes);
            return Arrays.stream(new String(bytes, StandardCharsets.UTF_8).split("\n")).filter(l -> !l.isBlank()).toList();
        }
    }
}
