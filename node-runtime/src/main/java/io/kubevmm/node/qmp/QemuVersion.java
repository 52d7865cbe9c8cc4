package io.kubevmm.node.qmp;

/**
 * A QEMU release, as announced in the QMP greeting or printed by {@code qemu-system-x86_64 --version}.
 * Feature checks go through {@link #isAtLeast(int, int)} so that version logic stays in one place.
 */
public record QemuVersion(int major, int minor, int micro) implements Comparable<QemuVersion> {

    /** True if this release is {@code major.minor} or newer, whatever its micro (patch) number. */
    public boolean isAtLeast(int major, int minor) {
        return this.major > major || (this.major == major && this.minor >= minor);
    }

    @Override
    public int compareTo(QemuVersion other) {
        int c = Integer.compare(major, other.major);
        if (c == 0) {
            c = Integer.compare(minor, other.minor);
        }
        return c == 0 ? Integer.compare(micro, other.micro) : c;
    }

    /** The dotted form QEMU itself prints, e.g. {@code 7.2.22}. */
    @Override
    public String toString() {
        return major + "." + minor + "." + micro;
    }
}
