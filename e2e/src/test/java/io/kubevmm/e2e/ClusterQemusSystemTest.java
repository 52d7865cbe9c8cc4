package io.kubevmm.e2e;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code local down} and the test base find a cluster's QEMUs by the state dirs their command
 * lines name: one whose pidfile is gone is found, one of another cluster is left alone.
 */
class ClusterQemusSystemTest {
    private final List<Process> started = new ArrayList<>();

    @TempDir
    Path dir;

    @AfterEach
    void cleanUp() {
        started.forEach(Process::destroyForcibly);
    }

    @Test
    void everyQemuOfTheClusterIsFoundByItsStateDirAndStoppedAndNoOtherOne() throws Exception {
        Path ours = dir.resolve("cluster/nodes/node-b/vms/default_evac-1");
        Path theirs = dir.resolve("other-cluster/nodes/node-b/vms/default_evac-1");
        Process qemu = idleQemu(ours);
        Process other = idleQemu(theirs);
        Files.deleteIfExists(ours.resolve("qemu.pid")); // found without its pidfile

        ClusterQemus cluster = new ClusterQemus(dir.resolve("cluster/nodes"));
        assertThat(cluster.running()).extracting(q -> q.process().pid(), ClusterQemus.Qemu::stateDir)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(qemu.pid(), ours.toString()));

        assertThat(cluster.stopAll(5)).extracting(Object::toString).containsExactly("qemu " + qemu.pid() + " (" + ours + ")");
        assertThat(Processes.running(qemu.toHandle())).as("our QEMU (exited; the JVM may not have reaped it yet)").isFalse();
        assertThat(cluster.running()).isEmpty();
        assertThat(other.isAlive()).as("another cluster's QEMU").isTrue();
    }

    /** A QEMU with no machine to run (cheap), started as the node runtime starts them: its files in the VM's state dir. */
    private Process idleQemu(Path stateDir) throws Exception {
        Files.createDirectories(stateDir);
        Process p = new ProcessBuilder("qemu-system-x86_64", "-machine", "none", "-S", "-nodefaults", "-display", "none",
                "-qmp", "unix:" + stateDir.resolve("qmp.sock") + ",server=on,wait=off", "-pidfile", stateDir.resolve("qemu.pid").toString())
                .redirectErrorStream(true).redirectOutput(stateDir.resolve("qemu.log").toFile()).start();
        started.add(p);
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!Files.exists(stateDir.resolve("qemu.pid")) && System.nanoTime() < deadline && p.isAlive()) {
            Thread.sleep(20);
        }
        assertThat(p.isAlive()).as("QEMU started: " + Files.readString(stateDir.resolve("qemu.log"))).isTrue();
        return p;
    }
}
