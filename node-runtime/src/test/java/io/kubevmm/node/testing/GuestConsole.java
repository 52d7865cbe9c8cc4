package io.kubevmm.node.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.awaitility.Awaitility.await;

/** What the test guest printed on its serial console: ticks, memcheck results, markers. */
public final class GuestConsole {
    private static final Pattern TICK = Pattern.compile("^tick (\\d+)", Pattern.MULTILINE);
    private static final Pattern MEMCHECK_OK = Pattern.compile("^memcheck ok (\\d+)", Pattern.MULTILINE);
    public static final String READY = "KUBEVMM-GUEST-READY";

    private final Path log;

    public GuestConsole(Path log) {
        this.log = log;
    }

    public String text() {
        try {
            return Files.exists(log) ? Files.readString(log, StandardCharsets.ISO_8859_1) : "";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public int lastTick() {
        return last(TICK);
    }

    public int lastMemcheckPass() {
        return last(MEMCHECK_OK);
    }

    public long count(String marker) {
        return text().lines().filter(l -> l.contains(marker)).count();
    }

    public boolean memcheckFailed() {
        return text().contains("memcheck BAD");
    }

    public List<Integer> ticks() {
        Matcher m = TICK.matcher(text());
        return m.results().map(r -> Integer.parseInt(r.group(1))).toList();
    }

    private int last(Pattern p) {
        Matcher m = p.matcher(text());
        int last = -1;
        while (m.find()) {
            last = Integer.parseInt(m.group(1));
        }
        return last;
    }

    public void awaitTickAbove(int tick, Duration timeout) {
        await().atMost(timeout).pollInterval(Duration.ofMillis(100))
                .until(() -> lastTick() > tick);
    }

    public void awaitCount(String marker, long count, Duration timeout) {
        await().atMost(timeout).pollInterval(Duration.ofMillis(100))
                .until(() -> count(marker) >= count);
    }
}
