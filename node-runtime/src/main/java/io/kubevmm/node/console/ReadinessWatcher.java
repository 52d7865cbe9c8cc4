package io.kubevmm.node.console;

import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Watches serial console logs for a readiness pattern. One shared poller for the whole node:
 * a boot is seconds long and the poll period is 5 ms, so the reported boot time is exact to
 * well under 1%.
 */
public final class ReadinessWatcher implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ReadinessWatcher.class);
    private static final long POLL_MILLIS = 5;

    private final ScheduledExecutorService poller = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "readiness-watcher");
        t.setDaemon(true);
        return t;
    });
    private final Map<Object, Watch> watches = new ConcurrentHashMap<>();

    public ReadinessWatcher() {
        poller.scheduleWithFixedDelay(this::pollAll, POLL_MILLIS, POLL_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Called with the nanoTime at which the pattern was first seen after {@code fromOffset}. */
    public interface Listener {
        void ready(long seenAtNanos);
    }

    /** Starts (or replaces) the watch for {@code key}: scan {@code log} from {@code fromOffset} for {@code pattern}. */
    public void watch(Object key, Path log, long fromOffset, String pattern, Listener listener) {
        watches.put(key, new Watch(log, fromOffset, pattern.getBytes(StandardCharsets.UTF_8), listener));
    }

    public void cancel(Object key) {
        watches.remove(key);
    }

    private void pollAll() {
        watches.forEach((key, watch) -> {
            try {
                if (watch.scan()) {
                    watches.remove(key, watch);
                    watch.listener.ready(System.nanoTime());
                }
            } catch (RuntimeException e) {
                LOG.errorf(e, "readiness watch of %s failed", key);
                watches.remove(key, watch);
            }
        });
    }

    @Override
    public void close() {
        poller.shutdownNow();
    }

    private static final class Watch {
        final Path log;
        final byte[] pattern;
        final Listener listener;
        long offset;
        /** Bytes kept from the previous read so a pattern split across two reads is still found. */
        byte[] carry = new byte[0];

        Watch(Path log, long offset, byte[] pattern, Listener listener) {
            this.log = log;
            this.offset = offset;
            this.pattern = pattern;
            this.listener = listener;
        }

        boolean scan() {
            try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "r")) {
                long length = file.length();
                if (length <= offset) {
                    return false;
                }
                byte[] fresh = new byte[(int) Math.min(length - offset, 1 << 20)];
                file.seek(offset);
                file.readFully(fresh);
                offset += fresh.length;
                byte[] window = new byte[carry.length + fresh.length];
                System.arraycopy(carry, 0, window, 0, carry.length);
                System.arraycopy(fresh, 0, window, carry.length, fresh.length);
                if (indexOf(window, pattern) >= 0) {
                    return true;
                }
                int keep = Math.min(window.length, pattern.length - 1);
                carry = java.util.Arrays.copyOfRange(window, window.length - keep, window.length);
                return false;
            } catch (IOException e) {
                return false; // not created yet
            }
        }

        private static int indexOf(byte[] haystack, byte[] needle) {
            outer:
            for (int i = 0; i + needle.length <= haystack.length; i++) {
                for (int j = 0; j < needle.length; j++) {
                    if (haystack[i + j] != needle[j]) {
                        continue outer;
                    }
                }
                return i;
            }
            return -1;
        }
    }
}
