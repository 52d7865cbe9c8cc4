package io.kubevmm.node.engine.qemu;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link SavedMachine} on the first 512 bytes of state streams QEMU 7.2 and 10.0 wrote (migrate exec:cat). */
class SavedMachineTest {

    private static byte[] head(String name) throws IOException {
        try (InputStream in = SavedMachineTest.class.getResourceAsStream("/saved-state/" + name + ".head")) {
            return in.readAllBytes();
        }
    }

    @Test
    void aQ35GuestSavedByQemu72IsItsVersionedMachineWithPaddedRam() throws IOException {
        assertThat(SavedMachine.parse(head("qemu-7.2.22-q35-262152K")))
                .contains(new SavedMachine("pc-q35-7.2", 262152L * 1024, 256 * 1024));
    }

    @Test
    void aMicrovmGuestSavedByQemu72RanOnQboot() throws IOException {
        assertThat(SavedMachine.parse(head("qemu-7.2.22-microvm-262152K")))
                .contains(new SavedMachine("microvm", 262152L * 1024, SavedMachine.QBOOT_BYTES));
    }

    @Test
    void aQ35GuestSavedByQemu10HasExactlyItsSpec() throws IOException {
        assertThat(SavedMachine.parse(head("qemu-10.0.2-q35-256M")))
                .contains(new SavedMachine("pc-q35-10.0", 256L << 20, 256 * 1024));
    }

    @Test
    void anythingElseIsNotReadAsAMachine() throws IOException {
        byte[] stream = head("qemu-10.0.2-q35-256M");
        assertThat(SavedMachine.parse(new byte[0])).isEmpty();
        assertThat(SavedMachine.parse("not a state stream".getBytes())).isEmpty();
        assertThat(SavedMachine.parse(Arrays.copyOf(stream, 30))).as("cut short").isEmpty();
        byte[] otherVersion = stream.clone();
        otherVersion[7] = 2;
        assertThat(SavedMachine.parse(otherVersion)).isEmpty();
    }
}
