package io.kubevmm.node.engine.qemu;

import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.testing.GuestConsole;
import io.kubevmm.node.testing.StartedGuests;
import io.kubevmm.node.testing.TestGuest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link io.kubevmm.node.engine.IncomingMigration#announce()} on a real QEMU: the guest's NIC
 * sends RARP frames from its own MAC, which is what tells switches (and, later, overlay
 * networks) where the guest runs after a switchover. The frames are read from a
 * {@code filter-dump} on the NIC's backend: a guest that never migrated has sent none before.
 */
class AnnounceSelfTest {
    private static final int ETHERTYPE_RARP = 0x8035;
    private static final String MAC = "52:54:00:ab:cd:ef";
    @RegisterExtension
    final StartedGuests started = new StartedGuests();

    @TempDir
    Path dir;


    @Test
    void announceSendsRarpFramesFromTheGuestsMac() throws Exception {
        assumeTrue(TestGuest.engine().features().hasAnnounceSelf(), "this QEMU has no announce-self");
        VmConfig base = TestGuest.microvm(dir, "announce", "memcheck:16");
        VmConfig config = new VmConfig(base.id(), base.stateDir(), base.profile(), base.cpus(), base.memoryBytes(), base.kernel(),
                base.initrd(), base.cmdline(), base.disks(), VmConfig.NetworkMode.USER, MAC);
        QemuInstance vm = (QemuInstance) TestGuest.engine().create(config);
        started.add(vm);
        vm.resume();
        GuestConsole console = new GuestConsole(config.consoleLog());
        await().atMost(Duration.ofSeconds(60)).until(() -> console.lastMemcheckPass() >= 1);
        Path pcap = dir.resolve("net0.pcap");
        vm.command("object-add", Map.of("qom-type", "filter-dump", "id", "dump0", "netdev", "net0", "file", pcap.toString()));
        assertThat(rarpSources(pcap)).as("nothing announced the guest before").isEmpty();

        assertThat(vm.incoming().announce()).isTrue();

        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() -> rarpSources(pcap).size() >= 5);
        assertThat(rarpSources(pcap)).as("one RARP frame per round, each from the guest's MAC").hasSize(5).containsOnly(MAC);
    }

    /** The source MAC of every RARP frame in a pcap file (link type Ethernet, host byte order). */
    private static List<String> rarpSources(Path pcap) throws IOException {
        List<String> sources = new ArrayList<>();
        if (!Files.exists(pcap)) {
            return sources;
        }
        ByteBuffer buf = ByteBuffer.wrap(Files.readAllBytes(pcap)).order(ByteOrder.LITTLE_ENDIAN);
        if (buf.remaining() < 24) {
            return sources;
        }
        buf.position(24);
        while (buf.remaining() >= 16) {
            buf.position(buf.position() + 8);
            int captured = buf.getInt();
            buf.getInt();
            if (buf.remaining() < captured) {
                break;
            }
            byte[] frame = new byte[captured];
            buf.get(frame);
            if (frame.length >= 14 && ((frame[12] & 0xff) << 8 | (frame[13] & 0xff)) == ETHERTYPE_RARP) {
                sources.add(HexFormat.ofDelimiter(":").formatHex(frame, 6, 12));
            }
        }
        return sources;
    }
}
