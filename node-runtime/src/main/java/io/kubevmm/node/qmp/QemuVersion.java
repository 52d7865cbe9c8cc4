package io.kubevmm.node.qmp;

/** A QEMU release, as announced in the QMP greeting or printed by {@code --version}. */
public record QemuVersion(int major, int minor, int micro) implements Comparable<QemuVersion> {

    public boolean isAtLeast(int major, int minor) {
        return this.major > major || (this.major == major && this.minor >= minor);
    }

    @Override
    public int compareTo(QemuVersion o) {
        int c = Integer.compare(major, o.major);
        if (c == 0) {
            c = Integer.compare(minor, o.minor);
        }
        return c == 0 ? Integer.compare(micro, o.micro) : c;
    }

    @Override
    public String toString() {
        return major + "." + minor + "." + micro;
    }
}
