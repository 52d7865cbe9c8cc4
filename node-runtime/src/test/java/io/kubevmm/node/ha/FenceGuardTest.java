package io.kubevmm.node.ha;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The fence guard script, run for real: it kills the process of a marked VM dir once the
 * heartbeat is older than fence-after, leaves an unmarked one and a pid whose command line names
 * another socket alone, and exits when there is nothing left to guard. Stand-in "QEMUs" are
 * sleep processes whose command line names the VM dir's QMP socket path.
 */
class FenceGuardTest {
    @TempDir
    Path stateDir;
    final List<Process> started = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        started.forEach(Process::destroyForcibly);
        new FenceGuard(stateDir, 2).stop();
    }

    @Test
    void killsOnlyMarkedGuestsOnceTheHeartbeatIsStaleThenExits() throws Exception {
        Files.writeString(stateDir.resolve(LeaseHold.HEARTBEAT_FILE), "0\n");
        Process marked = fakeQemu("default_ha", true);
        Process unmarked = fakeQemu("default_plain", false);
        FenceGuard guard = new FenceGuard(stateDir, 2);
        guard.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> guard.running().isPresent());
        // Several passes of the guard (it looks every second) with the heartbeat kept fresh, as a
        // renewing node runtime keeps it: nothing may be fenced in any of them.
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(250))
                .until(() -> {
                    touchHeartbeat(Instant.now());
                    return marked.isAlive();
                });
        assertThat(Files.exists(stateDir.resolve("fence-guard.log")) ? Files.readString(stateDir.resolve("fence-guard.log")) : "")
                .as("heartbeat fresh: nothing fenced").doesNotContain("fenced");

        touchHeartbeat(Instant.now().minusSeconds(5));
        await().atMost(Duration.ofSeconds(5)).until(() -> !marked.isAlive());
        assertThat(unmarked.isAlive()).as("a VM without the marker (mode None) is never fenced").isTrue();
        await().atMost(Duration.ofSeconds(5)).until(() -> guard.running().isEmpty());
        assertThat(Files.readString(stateDir.resolve("fence-guard.log"))).contains("fenced default_ha: killed QEMU " + marked.pid());
    }

    @Test
    void exitsWhenTheHeartbeatFileIsRemoved() throws Exception {
        touchHeartbeat(Instant.now());
        fakeQemu("default_ha", true);
        FenceGuard guard = new FenceGuard(stateDir, 2);
        guard.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> guard.running().isPresent());
        Files.delete(stateDir.resolve(LeaseHold.HEARTBEAT_FILE));
        await().atMost(Duration.ofSeconds(5)).until(() -> guard.running().isEmpty());
    }

    @Test
    void aRecycledPidIsNotKilled() throws Exception {
        touchHeartbeat(Instant.now().minusSeconds(60));
        Process other = fakeQemu("default_other", false);
        Path dir = Files.createDirectories(stateDir.resolve("vms/default_ha"));
        FenceMarker.set(dir, true);
        Files.writeString(dir.resolve("qemu.pid"), other.pid() + "\n"); // names a process that is not this VM's QEMU
        FenceGuard guard = new FenceGuard(stateDir, 2);
        guard.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(stateDir.resolve("fence-guard.log"))
                && Files.readString(stateDir.resolve("fence-guard.log")).contains("exiting"));
        assertThat(other.isAlive()).isTrue();
    }

    private void touchHeartbeat(Instant at) throws Exception {
        Path heartbeat = stateDir.resolve(LeaseHold.HEARTBEAT_FILE);
        Files.writeString(heartbeat, at.getEpochSecond() + "\n");
        Files.setLastModifiedTime(heartbeat, FileTime.from(at));
    }

    private Process fakeQemu(String id, boolean marked) throws Exception {
        Path dir = Files.createDirectories(stateDir.resolve("vms").resolve(id));
        FenceMarker.set(dir, marked);
        // bash -c 'sleep ...' with the socket path as $0: the path is in /proc/<pid>/cmdline, as QEMU's -qmp is.
        Process p = new ProcessBuilder("bash", "-c", "exec -a \"$0\" sleep 120", "qemu-stand-in unix:" + dir.resolve("qmp.sock"))
                .start();
        started.add(p);
        Files.writeString(dir.resolve("qemu.pid"), p.pid() + "\n");
        return p;
    }
}
