package io.kubevmm.node.engine.qemu;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The machine a saved state stream (suspend to disk, full-state snapshot) was written by: its
 * machine type and guest RAM, read from the stream's head. QEMU loads a stream only into the
 * same machine type and RAM size, and both depend on the release that wrote it: a q35 guest
 * saved by QEMU 7.2 is {@code pc-q35-7.2} with RAM padded under TCG, one saved by 10.0 is
 * {@code pc-q35-10.0} with exactly its spec. Restoring after an upgrade takes them from here.
 *
 * <p>The head: magic {@code QEVM}, version 3, the configuration section (machine type name),
 * then the start of the {@code ram} section, whose setup lists each RAM block's name and size;
 * the guest's RAM is the block {@code pc.ram} (q35) or {@code microvm.ram}.
 *
 * <p>Firmware is a RAM block too ({@code pc.bios}): Debian's QEMU 7.2 runs microvm guests on
 * qboot (64 KiB), its 10.0 on SeaBIOS's microvm build (128 KiB), and a stream loads only into a
 * machine with the same firmware size.
 *
 * @param machineType   e.g. {@code pc-q35-7.2}, {@code microvm}: what {@code -machine} takes
 * @param memoryBytes   the guest RAM block's size
 * @param firmwareBytes the firmware block's size, 0 if the head does not say
 */
public record SavedMachine(String machineType, long memoryBytes, long firmwareBytes) {
    /** qboot's size: a microvm stream with firmware of this size was written by a guest booted from qboot. */
    static final long QBOOT_BYTES = 64 * 1024;

    private static final int MAGIC = 0x5145564d;
    private static final int VERSION = 3;
    private static final int CONFIGURATION = 0x07;
    private static final int SECTION_START = 0x01;
    private static final long RAM_FLAG_MEM_SIZE = 0x04;
    private static final long RAM_FLAG_MASK = 0xfff;
    private static final int HEAD_BYTES = 64 * 1024;

    /** The machine of the stream in {@code file}; empty if it is no QEMU state stream this reader knows. */
    public static Optional<SavedMachine> of(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return parse(in.readNBytes(HEAD_BYTES));
        }
    }

    static Optional<SavedMachine> parse(byte[] head) {
        try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(head))) {
            if (in.readInt() != MAGIC || in.readInt() != VERSION || in.readUnsignedByte() != CONFIGURATION) {
                return Optional.empty();
            }
            String machine = new String(in.readNBytes(in.readInt()), StandardCharsets.US_ASCII);
            if (in.readUnsignedByte() != SECTION_START) {
                return Optional.empty();
            }
            in.readInt(); // section id
            if (!"ram".equals(shortString(in))) {
                return Optional.empty();
            }
            in.readInt(); // instance id
            in.readInt(); // version id
            long total = in.readLong();
            if ((total & RAM_FLAG_MASK) != RAM_FLAG_MEM_SIZE) {
                return Optional.empty();
            }
            total &= ~RAM_FLAG_MASK;
            // Blocks are name + size, in order, adding up to the total; the guest RAM comes first on
            // both machines. Extra per-block fields only appear with options the engine does not save
            // with (ignore-shared, post-copy with huge pages): then the sizes stop adding up, and only
            // the first block is taken.
            String block = shortString(in);
            long size = in.readLong();
            if (!(block.equals("pc.ram") || block.equals("microvm.ram")) || size <= 0 || size > total) {
                return Optional.empty();
            }
            long firmware = 0;
            long left = total - size;
            while (left > 0) {
                String name = shortString(in);
                long blockSize = in.readLong();
                if (blockSize <= 0 || blockSize > left) {
                    firmware = 0;
                    break;
                }
                if (name.equals("pc.bios")) {
                    firmware = blockSize;
                }
                left -= blockSize;
            }
            return Optional.of(new SavedMachine(machine, size, firmware));
        } catch (EOFException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new IllegalStateException(e); // a byte array does not fail to read
        }
    }

    private static String shortString(DataInputStream in) throws IOException {
        return new String(in.readNBytes(in.readUnsignedByte()), StandardCharsets.US_ASCII);
    }
}
