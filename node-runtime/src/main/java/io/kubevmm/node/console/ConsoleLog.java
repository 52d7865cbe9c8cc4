package io.kubevmm.node.console;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/** Reads a guest's serial console log (written by QEMU, appended across restarts). */
public final class ConsoleLog {
    private static final int MAX_TAIL_BYTES = 1 << 20;

    private ConsoleLog() { }

    /** The last {@code lines} lines (at most 1 MiB read from the end), without trailing empty line. */
    public static List<String> tail(Path log, int lines) throws IOException {
        if (!Files.exists(log) || lines <= 0) {
            return List.of();
        }
        try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "r")) {
            long length = file.length();
            long from = Math.max(0, length - MAX_TAIL_BYTES);
            byte[] buf = new byte[(int) (length - from)];
            file.seek(from);
            file.readFully(buf);
            String text = new String(buf, StandardCharsets.UTF_8).replace("\r", "");
            Deque<String> out = new ArrayDeque<>();
            String[] all = text.split("\n", -1);
            int end = all.length;
            if (end > 0 && all[end - 1].isEmpty()) {
                end--;
            }
            for (int i = end - 1; i >= 0 && out.size() < lines; i--) {
                out.addFirst(all[i]);
            }
            return List.copyOf(out);
        }
    }

    public static long size(Path log) {
        try {
            return Files.exists(log) ? Files.size(log) : 0;
        } catch (IOException e) {
            return 0;
        }
    }
}
