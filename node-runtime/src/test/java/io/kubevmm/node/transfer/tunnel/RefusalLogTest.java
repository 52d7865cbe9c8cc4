package io.kubevmm.node.transfer.tunnel;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class RefusalLogTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final RefusalLog log = new RefusalLog(Duration.ofSeconds(10), now::get);

    @Test
    void aFloodOfRefusalsLogsOneLinePerWindowAndCountsTheRest() {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            String line = log.refused("/127.0.0.1:" + (40000 + i), "bad proof for migration m1 channel memory");
            if (line != null) {
                lines.add(line);
            }
            now.addAndGet(Duration.ofMillis(5).toNanos()); // 3000 connections in 15 s
        }

        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).isEqualTo("Refused migration tunnel connection from /127.0.0.1:40000: bad proof for migration m1 channel memory");
        assertThat(lines.get(1)).startsWith("Refused migration tunnel connection from /127.0.0.1:42000:")
                .contains("(1999 more refused in the 10 s before, not logged one by one; last from /127.0.0.1:41999: bad proof");
    }

    @Test
    void refusalsFarApartAreEachLogged() {
        assertThat(log.refused("a", "timeout")).isNotNull();
        now.addAndGet(Duration.ofSeconds(11).toNanos());
        assertThat(log.refused("b", "timeout")).isEqualTo("Refused migration tunnel connection from b: timeout");
    }
}
