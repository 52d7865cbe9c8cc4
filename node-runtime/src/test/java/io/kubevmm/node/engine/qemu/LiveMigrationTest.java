package io.kubevmm.node.engine.qemu;

import io.kubevmm.node.engine.MigrationStatus;
import io.kubevmm.node.engine.MigrationTotals;
import io.kubevmm.node.engine.MigrationTuning;
import io.kubevmm.node.engine.RunState;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.engine.VmmInstance;
import io.kubevmm.node.testing.GuestConsole;
import io.kubevmm.node.testing.StartedGuests;
import io.kubevmm.node.testing.TestGuest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Two engines' emulators on this host, migrating a real guest between them over unix sockets. */
class LiveMigrationTest {
    private static final Duration BOOT = Duration.ofSeconds(60);
    @RegisterExtension
    final StartedGuests started = new StartedGuests();

    @TempDir
    Path dir;


    @Test
    void aMemcheckGuestMovesWithItsTicksAndMemoryIntact() throws Exception {
        VmConfig source = TestGuest.microvm(dir.resolve("a"), "vm", "memcheck:48");
        VmConfig target = TestGuest.microvm(dir.resolve("b"), "vm", "memcheck:48");
        VmmInstance from = boot(source);
        GuestConsole before = new GuestConsole(source.consoleLog());
        await().atMost(BOOT).until(() -> before.lastMemcheckPass() >= 1);

        MigrationTotals totals = migrate(from, target, false);

        assertThat(from.runState()).isEqualTo(RunState.MIGRATED);
        int lastTickOnSource = before.lastTick();
        GuestConsole after = new GuestConsole(target.consoleLog());
        int pass = before.lastMemcheckPass();
        await().atMost(Duration.ofSeconds(30)).until(() -> after.lastMemcheckPass() > pass + 1 && after.lastTick() > lastTickOnSource + 1);
        assertThat(after.ticks().getFirst()).as("first tick on the target continues the source's count").isBetween(lastTickOnSource, lastTickOnSource + 2);
        assertThat(after.count(GuestConsole.READY)).as("no second boot").isZero();
        assertThat(after.memcheckFailed()).isFalse();
        // Whole milliseconds from QEMU: an idle guest's switchover on loopback can measure 0.
        assertThat(totals.downtimeMillis()).isNotNegative().isLessThanOrEqualTo(totals.totalTimeMillis());
        assertThat(totals.transferredBytes()).isPositive();
    }

    @Test
    void aGuestWithADiskKeepsWhatItWroteBeforeMoving() throws Exception {
        List<VmConfig.Disk> disks = List.of(new VmConfig.Disk("data", 64L << 20, null));
        VmConfig source = TestGuest.config(dir.resolve("a"), "vm", "disk:vda", VmConfig.Profile.MICROVM, disks);
        VmConfig target = TestGuest.config(dir.resolve("b"), "vm", "disk:vda", VmConfig.Profile.MICROVM, disks);
        VmmInstance from = boot(source);
        GuestConsole before = new GuestConsole(source.consoleLog());
        await().atMost(BOOT).until(() -> token(before.text(), "wrote") != null);
        String token = token(before.text(), "wrote");

        migrate(from, target, true);

        GuestConsole after = new GuestConsole(target.consoleLog());
        await().atMost(Duration.ofSeconds(30)).until(() -> after.text().contains("disk read "));
        assertThat(token(after.text(), "read")).as("the target's disk holds the token written on the source").isEqualTo(token);
    }

    /**
     * A UEFI guest's variables (OVMF writes its boot entries on the first boot) reach the target's
     * own variables file: after the move both files hold the same bytes, not the target's template.
     */
    @Test
    void aUefiGuestsVariablesMoveWithIt() throws Exception {
        VmConfig source = TestGuest.uefiMachine(dir.resolve("a"), "uefi");
        VmConfig target = TestGuest.uefiMachine(dir.resolve("b"), "uefi");
        byte[] template = java.nio.file.Files.readAllBytes(source.firmware().varsTemplate());
        VmmInstance from = boot(source);
        await().atMost(BOOT).pollInterval(Duration.ofMillis(500))
                .until(() -> !java.util.Arrays.equals(java.nio.file.Files.readAllBytes(source.uefiVars()), template));
        // Paused, so OVMF writes nothing more on either side: a paused guest stays paused on the target.
        from.pause();

        VmmInstance to = TestGuest.engine().createIncoming(target);
        started.add(to);
        Path stream = target.stateDir().resolve("incoming.sock");
        to.incoming().listen(stream, false);
        Path nbd = target.stateDir().resolve("nbd.sock");
        to.incoming().exportDisks(nbd);
        from.outgoing().mirrorDisks(nbd, Duration.ofMinutes(1));
        from.outgoing().start(stream, new MigrationTuning(false, false, 300, 0));
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(50))
                .until(() -> from.outgoing().progress(0).status(), st -> st == MigrationStatus.COMPLETED || st == MigrationStatus.FAILED);
        assertThat(from.outgoing().progress(0).status()).isEqualTo(MigrationStatus.COMPLETED);
        from.outgoing().finishDiskMirrors();
        to.incoming().stopDiskExport();
        await().atMost(Duration.ofSeconds(10)).until(to::runState, st -> st == RunState.PAUSED);

        byte[] moved = java.nio.file.Files.readAllBytes(target.uefiVars());
        assertThat(moved).as("the target's variables are the source's").isEqualTo(java.nio.file.Files.readAllBytes(source.uefiVars()));
        assertThat(moved).as("and not the OVMF template it started from").isNotEqualTo(template);
    }

    private VmmInstance boot(VmConfig config) throws Exception {
        VmmInstance vm = TestGuest.engine().create(config);
        started.add(vm);
        vm.resume();
        return vm;
    }

    private MigrationTotals migrate(VmmInstance from, VmConfig target, boolean disks) throws Exception {
        VmmInstance to = TestGuest.engine().createIncoming(target);
        started.add(to);
        Path stream = target.stateDir().resolve("incoming.sock");
        to.incoming().listen(stream, false);
        if (disks) {
            Path nbd = target.stateDir().resolve("nbd.sock");
            to.incoming().exportDisks(nbd);
            from.outgoing().mirrorDisks(nbd, Duration.ofMinutes(1));
        }
        from.outgoing().start(stream, new MigrationTuning(false, false, 300, 0));
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(50))
                .until(() -> from.outgoing().progress(0).status(), s -> s == MigrationStatus.COMPLETED || s == MigrationStatus.FAILED);
        assertThat(from.outgoing().progress(0).status()).isEqualTo(MigrationStatus.COMPLETED);
        if (disks) {
            from.outgoing().finishDiskMirrors();
            to.incoming().stopDiskExport();
        }
        await().atMost(Duration.ofSeconds(10)).until(to::runState, s -> s == RunState.RUNNING);
        return from.outgoing().totals();
    }

    private static String token(String console, String verb) {
        Matcher m = Pattern.compile("^disk " + verb + " ([0-9a-f]{16})", Pattern.MULTILINE).matcher(console);
        String last = null;
        while (m.find()) {
            last = m.group(1);
        }
        return last;
    }
}
