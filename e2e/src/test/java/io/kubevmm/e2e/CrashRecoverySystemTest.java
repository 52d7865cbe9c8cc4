package io.kubevmm.e2e;

import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.v1alpha1.SuspendMode;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VMMigrationSpec.Strategy;
import io.kubevmm.api.v1alpha1.VMMigrationStatus.Phase;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VmPhase;
import io.kubevmm.api.v1alpha1.VmState;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The node runtime killed (SIGKILL: no shutdown, no cleanup) in the middle of an operation QEMU
 * carries on by itself, a suspend to disk or an outgoing live migration, and restarted: the VM
 * ends in one place, managed, with its memory intact and its status telling the truth. And a
 * migration that cannot converge ends at the default completion timeout.
 */
class CrashRecoverySystemTest extends ClusterTestBase {
    static final Duration LONG = Duration.ofMinutes(4);

    @Override
    String clusterDirName() {
        return "crash-recovery-test-cluster";
    }

    @Test
    void killingTheNodeRuntimeDuringASuspendToDiskKeepsTheGuestsMemory() throws Exception {
        assumeLocalCluster();
        // 512 MiB of patterned memory: the save writes that much, so it takes long enough to be interrupted.
        VirtualMachine vm = vm("crash-save", "1Gi", "memcheck:512");
        vm.getSpec().setSuspendMode(SuspendMode.Disk);
        client.resource(vm).create();
        awaitPhase("crash-save", VmPhase.Running, true);
        await().atMost(BOOT).ignoreExceptions().until(() -> lastMemcheckPass("crash-save") >= 1);
        String node = vmi("crash-save").getSpec().getNodeName();
        Path dir = vmDir(node, "crash-save");
        Path partial = dir.resolve("suspend.state.partial");
        Path intent = dir.resolve("operation.json");

        edit("crash-save", v -> { v.getSpec().setState(VmState.Suspended); return v; });
        await().atMost(BOOT).pollInterval(Duration.ofMillis(5)).until(() -> Files.exists(partial));
        cluster.kill9(node);
        // The kill landed inside the save: the runtime had recorded it and not yet finished it.
        assertThat(intent).as("the suspend's intent record, left by the killed runtime").exists();

        cluster.restart(node);
        VirtualMachine suspended = awaitPhase("crash-save", VmPhase.Suspended, false);
        assertThat(suspended.getStatus().getNodeName()).isEqualTo(node);
        assertThat(dir.resolve("suspend.state")).as("the completed save, under its real name").exists();
        assertThat(partial).doesNotExist();
        assertThat(intent).doesNotExist();
        assertThat(liveQemus("crash-save")).as("no QEMU holds a VM suspended to disk").isEmpty();
        int before = lastTickOnDisk("crash-save");

        edit("crash-save", v -> { v.getSpec().setState(VmState.Running); return v; });
        awaitPhase("crash-save", VmPhase.Running, false);
        awaitTickAbove("crash-save", before + 1);
        int pass = lastMemcheckPass("crash-save");
        await().atMost(BOOT).ignoreExceptions().until(() -> lastMemcheckPass("crash-save") > pass);
        String console = console("crash-save");
        assertTicksContinue(console);
        assertThat(Pattern.compile("KUBEVMM-GUEST-READY").matcher(console).results().count()).as("one boot only").isEqualTo(1);
        assertThat(console).doesNotContain("memcheck BAD");
        deleteAndAwaitGone("crash-save");
    }

    @Test
    void killingTheSourceNodeRuntimeDuringALiveMigrationLeavesOneManagedCopyAndTheTruth() throws Exception {
        killSourceDuringMigration("crash-mig", false);
    }

    @Test
    void aSourceRestartedAfterQemuCompletedTheMigrationHandsTheVmOver() throws Exception {
        killSourceDuringMigration("crash-done", true);
    }

    /**
     * @param restartAfterTheTargetActed restart the source only once the target took the guest over
     *                                   (QEMU finished alone) or dropped it; else restart at once
     */
    void killSourceDuringMigration(String name, boolean restartAfterTheTargetActed) throws Exception {
        assumeLocalCluster();
        String migrationName = name + "-1";
        client.resource(vm(name, "256Mi", "memcheck:64")).create();
        awaitPhase(name, VmPhase.Running, true);
        awaitTickAbove(name, 2);
        String source = vmi(name).getSpec().getNodeName();
        // Capped so the transfer runs for several seconds after the kill.
        migration(migrationName, name, s -> { s.setStrategy(Strategy.PreCopy); s.setBandwidthMiBps(8L); });
        awaitMigrationPhase(migrationName, Phase.Running);
        String target = getMigration(migrationName).getStatus().getTargetNode();
        long sourcePid = pid(vmDir(source, name));
        long targetPid = pid(vmDir(target, name));
        cluster.kill9(source);
        boolean handedOff = Files.readString(cluster.home().log(source)).contains("migration default/" + migrationName
                + ": memory stream leaves by hand-off");
        try {
            awaitTargetIfAsked(restartAfterTheTargetActed, source, target, name, migrationName);
        } finally {
            cluster.restart(source); // also when the wait failed: the next tests need both nodes
        }

        VMMigration done = awaitOutcome(migrationName);
        String runsOn = done.getStatus().getPhase() == Phase.Succeeded ? target : source;
        if (restartAfterTheTargetActed && handedOff) {
            assertThat(done.getStatus().getPhase()).as("QEMU completed it alone: %s", done.getStatus().getFailureReason())
                    .isEqualTo(Phase.Succeeded);
            assertThat(console(name)).as("no second boot on the target").doesNotContain("KUBEVMM-GUEST-READY");
        }
        assertThat(done.getStatus().getPhase()).as("outcome: %s", done.getStatus().getFailureReason()).isIn(Phase.Succeeded, Phase.Failed);
        if (done.getStatus().getPhase() == Phase.Failed) {
            assertThat(done.getStatus().getFailureReason()).contains("stays on " + source);
        }
        // Exactly one QEMU holds the guest, on the node the VMI and the VMMigration name, and it reports fresh status.
        await().atMost(BOOT).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            assertThat(liveQemus(name)).as("QEMUs of crash-mig").hasSize(1);
            VirtualMachineInstance vmi = vmi(name);
            assertThat(vmi.getSpec().getNodeName()).isEqualTo(runsOn);
            assertThat(vmi.getStatus().getNodeName()).isEqualTo(runsOn);
            assertThat(vmi.getStatus().getQemuPid()).isEqualTo(liveQemus(name).getFirst().pid());
            assertThat(get(name).getStatus().getPhase()).isEqualTo(VmPhase.Running);
        });
        assertThat(liveQemus(name).getFirst().pid()).isEqualTo(runsOn.equals(source) ? sourcePid : targetPid);
        int tick = lastTick(name);
        awaitTickAbove(name, tick);
        assertThat(console(name)).doesNotContain("memcheck BAD");

        edit(name, v -> { v.getSpec().setState(VmState.Stopped); return v; });
        awaitPhase(name, VmPhase.Stopped, false);
        assertThat(ProcessHandle.of(sourcePid).filter(Processes::running)).as("source QEMU after stop").isEmpty();
        assertThat(ProcessHandle.of(targetPid).filter(Processes::running)).as("target QEMU after stop").isEmpty();
        int stoppedAt = lastTickOnDisk(name);
        Thread.sleep(3000);
        assertThat(lastTickOnDisk(name)).as("no guest ticks anywhere after stop").isEqualTo(stoppedAt);
        deleteAndAwaitGone(name);
    }

    void awaitTargetIfAsked(boolean restartAfterTheTargetActed, String source, String target, String name, String migrationName)
            throws Exception {
        if (restartAfterTheTargetActed) {
            // With the stream handed to QEMU, QEMU finishes the migration without its node runtime once
            // the guest converges: lift the cap through QEMU's own monitor, as a guest going quiet would.
            liftBandwidthCap(vmDir(source, name).resolve("qmp.sock"));
            await().atMost(LONG).pollInterval(Duration.ofMillis(200)).until(() ->
                    Conditions.isTrue(getMigration(migrationName).getStatus().getConditions(), "TargetRunning")
                            || Files.readString(cluster.home().log(target)).contains("dropping the target of migration default/" + migrationName));
        }
    }

    @Test
    void aPreCopyMigrationThatCannotConvergeFailsAtTheDefaultTimeoutAndTheVmRunsOn() throws Exception {
        client.resource(vm("slow-mig", "256Mi", "memcheck:32,dirty:96:400")).create();
        awaitPhase("slow-mig", VmPhase.Running, true);
        awaitTickAbove("slow-mig", 2);
        String source = vmi("slow-mig").getSpec().getNodeName();
        long started = System.nanoTime();
        migration("slow-mig-1", "slow-mig", s -> {
            s.setStrategy(Strategy.PreCopy);
            s.setAutoConverge(false);
            s.setBandwidthMiBps(16L);
            s.setMaxDowntimeMillis(50L);
        });
        VMMigration aborted = awaitOutcome("slow-mig-1");
        long tookSeconds = Duration.ofNanos(System.nanoTime() - started).toSeconds();
        // 256 MiB at 150 s/GiB is 38 s, under the 60 s floor.
        assertThat(aborted.getStatus().getCompletionTimeoutSeconds()).isEqualTo(60L);
        assertThat(aborted.getStatus().getPhase()).isEqualTo(Phase.Failed);
        assertThat(aborted.getStatus().getFailureReason()).startsWith("Aborted").contains("timeout");
        assertThat(tookSeconds).isGreaterThanOrEqualTo(60L);
        assertThat(vmi("slow-mig").getSpec().getNodeName()).isEqualTo(source);
        awaitPhase("slow-mig", VmPhase.Running, true);
        int pass = lastMemcheckPass("slow-mig");
        await().atMost(BOOT).ignoreExceptions().until(() -> lastMemcheckPass("slow-mig") > pass);
        assertThat(console("slow-mig")).doesNotContain("memcheck BAD");
        deleteAndAwaitGone("slow-mig");
    }

    @Test
    void deletingAVmCancelsItsMigrationAndSaysWhatItWaitsFor() throws Exception {
        client.resource(vm("del-mig", "256Mi", "memcheck:32,dirty:96:400")).create();
        awaitPhase("del-mig", VmPhase.Running, true);
        migration("del-mig-1", "del-mig", s -> {
            s.setStrategy(Strategy.PreCopy);
            s.setAutoConverge(false);
            s.setBandwidthMiBps(8L);
        });
        awaitMigrationPhase("del-mig-1", Phase.Running);
        client.resources(VirtualMachine.class).inNamespace("default").withName("del-mig").delete();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> {
            VirtualMachine vm = get("del-mig");
            return vm == null || Conditions.find(vm.getStatus().getConditions(), "Deleting").isPresent();
        });
        VirtualMachine deleting = get("del-mig");
        if (deleting != null) {
            assertThat(Conditions.find(deleting.getStatus().getConditions(), "Deleting").orElseThrow().getMessage())
                    .startsWith("deleting: waiting for");
        }
        VMMigration cancelled = awaitOutcome("del-mig-1");
        assertThat(cancelled.getSpec().getCancel()).isTrue();
        assertThat(cancelled.getStatus().getPhase()).isEqualTo(Phase.Cancelled);
        await().atMost(BOOT).until(() -> get("del-mig") == null && vmi("del-mig") == null);
        assertThat(liveQemus("del-mig")).isEmpty();
    }

    // ---- helpers ----

    /** One QMP session on a QEMU whose node runtime is down (QMP serves one client at a time). */
    static void liftBandwidthCap(Path qmpSocket) throws Exception {
        try (var channel = java.nio.channels.SocketChannel.open(java.net.UnixDomainSocketAddress.of(qmpSocket))) {
            var in = new java.io.BufferedReader(new java.io.InputStreamReader(java.nio.channels.Channels.newInputStream(channel),
                    StandardCharsets.UTF_8));
            var out = java.nio.channels.Channels.newOutputStream(channel);
            assertThat(in.readLine()).contains("QMP");
            for (String command : List.of("{\"execute\":\"qmp_capabilities\"}",
                    "{\"execute\":\"migrate-set-parameters\",\"arguments\":{\"max-bandwidth\":4294967296}}")) {
                out.write((command + "\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
                String reply;
                do {
                    reply = in.readLine();
                } while (reply != null && reply.contains("\"event\""));
                assertThat(reply).as("QMP reply to %s", command).contains("\"return\"");
            }
        }
    }

    Path vmDir(String node, String vm) {
        return cluster.home().nodeStateDir(node).resolve("vms/default_" + vm);
    }

    static long pid(Path vmDir) throws Exception {
        return Long.parseLong(Files.readString(vmDir.resolve("qemu.pid")).strip());
    }

    /** Every QEMU process on this machine serving this VM in this cluster, whichever node's state dir it uses. */
    List<ProcessHandle> liveQemus(String vm) {
        String marker = cluster == null ? "/vms/default_" + vm + "/" : clusterDirName();
        return ProcessHandle.allProcesses().filter(Processes::running).filter(p -> {
            try {
                String cmdline = new String(Files.readAllBytes(Path.of("/proc", Long.toString(p.pid()), "cmdline")), StandardCharsets.UTF_8);
                return cmdline.startsWith("qemu-system") || cmdline.contains("/qemu-system")
                        ? cmdline.contains(marker) && cmdline.contains("/vms/default_" + vm + "/") : false;
            } catch (Exception e) {
                return false;
            }
        }).toList();
    }

    /** Tick numbers only grow: a reboot would start them again at 1. */
    static void assertTicksContinue(String console) {
        List<Integer> ticks = TICK.matcher(console).results().map(r -> Integer.parseInt(r.group(1))).toList();
        assertThat(ticks).isNotEmpty();
        for (int i = 1; i < ticks.size(); i++) {
            assertThat(ticks.get(i)).as("tick %d after %d", ticks.get(i), ticks.get(i - 1)).isGreaterThan(ticks.get(i - 1));
        }
    }
}
