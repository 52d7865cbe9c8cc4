package io.kubevmm.api.v1alpha1;

import java.util.ArrayList;
import java.util.List;

/**
 * What a machine can hold, counted on the QEMU machines the node runs (QEMU 7.2 and 10.0), so
 * a spec beyond them is refused naming the limit instead of failing on the node with QEMU's
 * command line as the message.
 */
public final class MachineLimits {
    /**
     * microvm has 24 virtio-mmio transports (with its second IOAPIC, on by default); every disk
     * and the NIC take one. Beyond them QEMU says "No 'virtio-bus' bus found".
     */
    public static final int MICROVM_VIRTIO_SLOTS = 24;
    /**
     * q35's root bus has 32 PCI slots; with -nodefaults the host bridge (00) and the ICH9
     * functions (1f) hold two, leaving 30 for virtio-blk-pci disks and the NIC.
     */
    public static final int Q35_PCI_SLOTS = 30;
    /** The larger of the two, the schema's maxItems for spec.disks (the per-profile rule is a CEL rule). */
    public static final int MAX_DISKS = Q35_PCI_SLOTS;
    /**
     * Linux on x86 takes a command line of at most 2047 bytes (COMMAND_LINE_SIZE 2048 with the
     * NUL, what the boot protocol's cmdline_size tells QEMU); the node may append up to 128 of
     * its own (the microvm TCG clock workaround), so users get 1920.
     */
    public static final int MAX_CMDLINE = 1920;
    /** Guest RAM at most 1Ti: beyond what a node offers, and it keeps byte counts far from overflow. */
    public static final String MAX_MEMORY = "1Ti";
    /** A disk at most 64Ti: beyond any node's storage, and byte counts stay far from overflow. */
    public static final String MAX_DISK_SIZE = "64Ti";
    /**
     * A DNS label of at most 63 characters: the VM's name becomes its state directory, its QEMU
     * name and id, and its guest's identity (KubeVirt asks the same of a VMI's name).
     */
    public static final String VM_NAME_PATTERN = "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$";

    private MachineLimits() { }

    /** Disks a machine can attach: its profile's slots less those {@link #slotsTakenBy} names. */
    public static int maxDisks(MachineSpec spec) {
        return slots(spec) - slotsTakenBy(spec).size();
    }

    /** Device slots of the machine's profile: q35 PCI slots or microvm virtio-mmio transports. */
    public static int slots(MachineSpec spec) {
        return spec.getProfile() == Profile.standard ? Q35_PCI_SLOTS : MICROVM_VIRTIO_SLOTS;
    }

    /**
     * What takes a device slot besides the disks, as a user reads it: the NIC (network mode user
     * or overlay), on q35 the guest agent's virtio-serial controller, and the cloud-init seed disk.
     */
    public static List<String> slotsTakenBy(MachineSpec spec) {
        List<String> taken = new ArrayList<>();
        if (spec.getNetwork() != null && (spec.getNetwork().getMode() == NetworkMode.user
                || spec.getNetwork().getMode() == NetworkMode.overlay)) {
            taken.add("the NIC");
        }
        if (spec.getProfile() == Profile.standard) {
            taken.add("the guest agent channel");
        }
        if (spec.getCloudInit() != null) {
            taken.add("the cloud-init seed");
        }
        return taken;
    }
}
