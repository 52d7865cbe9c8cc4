package io.kubevmm.node.engine.qemu;

import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.engine.EngineException.Reason;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The format of a user-named base image, read by us from its first bytes, never probed by
 * QEMU: a file is qcow2 only if it starts with the qcow2 magic, anything else is raw (its bytes
 * are the disk, nothing in it is interpreted). A qcow2 base that names further files (a backing
 * file or an external data file) is refused: those names would reach past the checked path.
 */
final class BaseImageFormat {
    static final String QCOW2 = "qcow2";
    static final String RAW = "raw";
    private static final int MAGIC = 0x514649fb; // "QFI\xfb"
    private static final long INCOMPAT_DATA_FILE = 1L << 2;

    private BaseImageFormat() { }

    /** {@code qcow2} or {@code raw}, for {@code qemu-img create -F}. */
    static String of(String disk, Path image) throws EngineException {
        ByteBuffer header = ByteBuffer.allocate(104);
        try (FileChannel in = FileChannel.open(image, StandardOpenOption.READ)) {
            while (header.hasRemaining() && in.read(header) > 0) {
                // a short file is simply raw
            }
        } catch (IOException e) {
            throw new EngineException(Reason.MissingFile, "disk '" + disk + "': cannot read its base image: " + e.getMessage(), e);
        }
        header.flip();
        if (header.remaining() < 72 || header.getInt(0) != MAGIC) {
            return RAW;
        }
        int version = header.getInt(4);
        long backingOffset = header.getLong(8);
        if (backingOffset != 0) {
            throw new EngineException(Reason.OperationFailed, "disk '" + disk + "': the base image is a qcow2 file with a backing file of its own;"
                    + " flatten it first (qemu-img convert -O qcow2 IN OUT) so a disk never reads files outside the checked one");
        }
        if (version >= 3 && header.remaining() >= 80 && (header.getLong(72) & INCOMPAT_DATA_FILE) != 0) {
            throw new EngineException(Reason.OperationFailed, "disk '" + disk + "': the base image is a qcow2 file with an external data file;"
                    + " convert it to a self-contained image first (qemu-img convert -O qcow2 IN OUT)");
        }
        return QCOW2;
    }
}
