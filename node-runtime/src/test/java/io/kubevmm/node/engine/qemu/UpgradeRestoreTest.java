package io.kubevmm.node.engine.qemu;

import io.kubevmm.node.engine.Accelerator;
import io.kubevmm.node.engine.RunState;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.engine.VmmInstance;
import io.kubevmm.node.testing.GuestConsole;
import io.kubevmm.node.testing.StartedGuests;
import io.kubevmm.node.testing.TestGuest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A guest suspended to disk by one QEMU release resumes on another, as after the node's QEMU was
 * upgraded: the state loads into the machine that wrote it. Needs a second QEMU binary, named by
 * {@code KUBEVMM_TEST_OTHER_QEMU} (e.g. a QEMU 10 unpacked beside the installed 7.2).
 */
class UpgradeRestoreTest {
    private static final String OTHER = System.getenv("KUBEVMM_TEST_OTHER_QEMU");
    @RegisterExtension
    final StartedGuests started = new StartedGuests();

    @TempDir
    Path dir;

    @BeforeAll
    static void needsTwoReleases() {
        assumeTrue(OTHER != null && !OTHER.isBlank(), "KUBEVMM_TEST_OTHER_QEMU names no second QEMU binary");
        assumeTrue(!QemuProbe.features(OTHER).version().equals(QemuProbe.features("qemu-system-x86_64").version()),
                () -> OTHER + " is the same release as qemu-system-x86_64");
    }


    @ParameterizedTest
    @EnumSource(VmConfig.Profile.class)
    void aGuestSuspendedToDiskByTheOlderQemuResumesOnTheNewerWithItsMemory(VmConfig.Profile profile) throws Exception {
        QemuEngine installed = new QemuEngine("qemu-system-x86_64", "qemu-img", QemuEngine.AcceleratorChoice.TCG);
        QemuEngine other = new QemuEngine(OTHER, "qemu-img", QemuEngine.AcceleratorChoice.TCG);
        boolean installedIsOlder = installed.features().version().compareTo(other.features().version()) < 0;
        QemuEngine older = installedIsOlder ? installed : other;
        QemuEngine newer = installedIsOlder ? other : installed;
        assumeTrue(older.accelerator() == Accelerator.TCG);
        VmConfig config = TestGuest.config(dir, "vm", "memcheck:32", profile, List.of());

        VmmInstance before = older.create(config);
        started.add(before);
        before.resume();
        GuestConsole console = new GuestConsole(config.consoleLog());
        await().atMost(Duration.ofSeconds(90)).until(() -> console.lastMemcheckPass() >= 2);
        int pass = console.lastMemcheckPass();
        before.saveState();

        VmmInstance after = newer.restore(config);
        started.add(after);
        after.resume();
        await().atMost(Duration.ofSeconds(5)).until(after::runState, s -> s == RunState.RUNNING);
        await().atMost(Duration.ofSeconds(60)).until(() -> console.lastMemcheckPass() > pass + 1);
        assertThat(console.memcheckFailed()).isFalse();
        assertThat(console.count(GuestConsole.READY)).as("no second boot").isEqualTo(1);
    }
}
