package io.kubevmm.node.engine;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class ProcessLivenessTest {

    /**
     * A process that exited but was not reaped (its parent never waits, as a subreaper that
     * inherited a killed node runtime's QEMUs may not) is alive to {@link ProcessHandle#isAlive()}
     * and ended here.
     */
    @Test
    void aZombieHasEndedAndItsEndIsNoticed() throws Exception {
        // sh starts a short child, then becomes a long sleep that never waits for it: a zombie.
        Process parent = new ProcessBuilder("sh", "-c", "sleep 0.2 & echo $!; exec sleep 30").start();
        try {
            long pid;
            try (var out = new BufferedReader(new InputStreamReader(parent.getInputStream(), StandardCharsets.US_ASCII))) {
                pid = Long.parseLong(out.readLine().strip());
                ProcessHandle child = ProcessHandle.of(pid).orElseThrow();
                assertThat(ProcessLiveness.running(child)).as("while it sleeps").isTrue();
                var ended = ProcessLiveness.exited(child);
                assertThat(ended).isNotDone();

                await().atMost(Duration.ofSeconds(10)).until(() -> ProcessLiveness.exitedUnreaped(pid));
                assertThat(child.isAlive()).as("what ProcessHandle says of a zombie").isTrue();
                assertThat(ProcessLiveness.running(child)).isFalse();
                assertThat(ended.get(5, TimeUnit.SECONDS).pid()).isEqualTo(pid);
            }
        } finally {
            parent.destroyForcibly();
            parent.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aReapedChildHasEnded() throws Exception {
        Process p = new ProcessBuilder("sleep", "0.1").start();
        ProcessHandle handle = p.toHandle();
        assertThat(ProcessLiveness.exited(handle).get(10, TimeUnit.SECONDS).pid()).isEqualTo(p.pid());
        assertThat(ProcessLiveness.running(handle)).isFalse();
    }
}
