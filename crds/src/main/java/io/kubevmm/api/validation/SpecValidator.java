package io.kubevmm.api.validation;

import io.kubevmm.api.v1alpha1.DiskSpec;
import io.kubevmm.api.v1alpha1.HighAvailabilitySpec;
import io.kubevmm.api.v1alpha1.LenientSpec;
import io.kubevmm.api.v1alpha1.MachineLimits;
import io.kubevmm.api.v1alpha1.MachineSpec;
import io.kubevmm.api.v1alpha1.NetworkMode;
import io.kubevmm.api.v1alpha1.Profile;
import io.kubevmm.api.v1alpha1.RestoreSource;
import io.kubevmm.api.v1alpha1.SpecDefaults;
import io.kubevmm.api.v1alpha1.VMMigrationSpec;
import io.kubevmm.api.v1alpha1.VMRestoreSpec;
import io.kubevmm.api.v1alpha1.VMSnapshotSpec;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceSpec;
import io.kubevmm.api.v1alpha1.VirtualMachineSpec;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks what a CRD schema cannot say (or what an API server without schema validation lets
 * through). Every error names the field and the fix.
 */
public final class SpecValidator {
    static final long MIN_MEMORY = 16L << 20;
    static final int MAX_CPU = 64;
    private static final Pattern DNS_LABEL = Pattern.compile(DiskSpec.NAME_PATTERN);
    private static final Pattern VM_NAME = Pattern.compile(MachineLimits.VM_NAME_PATTERN);
    /** A DNS-1123 subdomain, as the API server requires of a VMNetwork's name. */
    private static final Pattern NETWORK_NAME = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
    static final long MAX_MEMORY = Quantities.toBytes(MachineLimits.MAX_MEMORY);
    static final long MAX_DISK_SIZE = Quantities.toBytes(MachineLimits.MAX_DISK_SIZE);

    private static final List<String> COUNT_WORDS = List.of("none", "one", "two", "three");

    private SpecValidator() { }

    private static void network(MachineSpec spec, List<FieldError> errors) {
        if (spec.getNetwork() == null) {
            return;
        }
        String networkName = spec.getNetwork().getNetworkName();
        if (spec.getNetwork().getMode() != NetworkMode.overlay) {
            if (networkName != null) {
                errors.add(new FieldError("spec.network.networkName", "applies only with mode overlay; remove it or set mode: overlay"));
            }
            return;
        }
        if (networkName != null && (networkName.length() > 253 || !NETWORK_NAME.matcher(networkName).matches())) {
            errors.add(new FieldError("spec.network.networkName", "\"" + networkName + "\" is not a VMNetwork name (lowercase letters,"
                    + " digits, '-' and '.', at most 253 characters; example: default); leave it out to join network default"));
        }
    }

    /** "a", "a and b", "a, b and c". */
    private static String joined(List<String> items) {
        return items.size() == 1 ? items.getFirst()
                : String.join(", ", items.subList(0, items.size() - 1)) + " and " + items.getLast();
    }

    public static List<FieldError> validate(VirtualMachineInstanceSpec spec) {
        List<FieldError> errors = new ArrayList<>();
        if (spec == null) {
            errors.add(new FieldError("spec", "is missing; a VirtualMachineInstance needs at least spec.boot.kernel"));
            return errors;
        }
        unreadable(spec, errors);
        machine(spec, errors);
        RestoreSource restore = spec.getRestoreFrom();
        if (restore != null && restore.getKind() == null) {
            errors.add(new FieldError("spec.restoreFrom.kind", "is required: Snapshot or Checkpoint (or leave restoreFrom out to boot)"));
        } else if (restore != null && restore.getKind() == RestoreSource.Kind.Snapshot && blank(restore.getName())) {
            errors.add(new FieldError("spec.restoreFrom.name", "is required with kind Snapshot: the name of the VMSnapshot to start from"));
        }
        return errors;
    }

    /** A VirtualMachine: its name (it reaches paths and QEMU ids) and its spec. */
    public static List<FieldError> validate(VirtualMachine vm) {
        List<FieldError> errors = new ArrayList<>();
        String name = vm.getMetadata() == null ? null : vm.getMetadata().getName();
        vmName("metadata.name", name, errors);
        errors.addAll(validate(vm.getSpec()));
        return errors;
    }

    /**
     * A VM's name must be a DNS label: Kubernetes allows dots and 253 characters, but the name
     * becomes the VM's state directory, QEMU's -name and ids, and the unix socket path, where
     * ',' '=' ' ' '/' and long names break things.
     */
    public static void vmName(String field, String name, List<FieldError> errors) {
        if (name == null || !VM_NAME.matcher(name).matches()) {
            errors.add(new FieldError(field, "\"" + name + "\" is not a DNS label (at most 63 lowercase letters, digits"
                    + " and '-', starting and ending with a letter or digit; example: web-1)"));
        }
    }

    /** Values the lenient reader could not fit into their fields, first: the rest is judged as if they were unset. */
    private static void unreadable(LenientSpec spec, List<FieldError> errors) {
        if (spec != null) {
            spec.unreadable().forEach(u -> errors.add(new FieldError(u.field(), u.message())));
        }
    }

    public static List<FieldError> validate(VirtualMachineSpec spec) {
        List<FieldError> errors = new ArrayList<>();
        if (spec == null) {
            errors.add(new FieldError("spec", "is missing; a VirtualMachine needs at least spec.boot.kernel"));
            return errors;
        }
        unreadable(spec, errors);
        machine(spec, errors);
        HighAvailabilitySpec ha = spec.getHighAvailability();
        if (ha != null && ha.getMode() == HighAvailabilitySpec.Mode.Checkpoint) {
            // Until checkpoints are taken and shipped to a standby, accepting it would promise a failover nothing does.
            errors.add(new FieldError("spec.highAvailability.mode", "Checkpoint is not available in this release yet; use Restart or None"));
        }
        if (ha != null && ha.getRestartWithLocalDiskLoss() != null && ha.getMode() != HighAvailabilitySpec.Mode.Restart) {
            errors.add(new FieldError("spec.highAvailability.restartWithLocalDiskLoss",
                    "only applies with mode Restart; set mode: Restart or remove it"));
        }
        if (ha != null && ha.getCheckpointIntervalSeconds() != null) {
            if (ha.getMode() != HighAvailabilitySpec.Mode.Checkpoint) {
                errors.add(new FieldError("spec.highAvailability.checkpointIntervalSeconds",
                        "only applies with mode Checkpoint; set mode: Checkpoint or remove it"));
            } else if (ha.getCheckpointIntervalSeconds() < 1) {
                errors.add(new FieldError("spec.highAvailability.checkpointIntervalSeconds", "must be at least 1"));
            }
        }
        return errors;
    }

    public static List<FieldError> validate(VMMigrationSpec spec) {
        List<FieldError> errors = new ArrayList<>();
        unreadable(spec, errors);
        if (spec == null || blank(spec.getVmName())) {
            errors.add(new FieldError("spec.vmName", "is required: the name of the VirtualMachine to migrate"));
        }
        if (spec != null && spec.getMaxDowntimeMillis() != null && spec.getMaxDowntimeMillis() < 1) {
            errors.add(new FieldError("spec.maxDowntimeMillis", spec.getMaxDowntimeMillis() + " must be at least 1 (default 300)"));
        }
        if (spec != null && spec.getBandwidthMiBps() != null && spec.getBandwidthMiBps() < 0) {
            errors.add(new FieldError("spec.bandwidthMiBps", "must not be negative; 0 means no cap"));
        }
        Integer channels = spec == null ? null : spec.getMultifdChannels();
        if (channels != null && (channels < 0 || channels > 16)) {
            errors.add(new FieldError("spec.multifdChannels", channels + " is not between 0 (one stream) and 16"));
        } else if (channels != null && channels > 0 && spec.getStrategy() != VMMigrationSpec.Strategy.PreCopy) {
            errors.add(new FieldError("spec.multifdChannels", "needs spec.strategy PreCopy (got "
                    + (spec.getStrategy() == null ? "the default Auto" : spec.getStrategy())
                    + "): QEMU does not combine multifd with post-copy"));
        }
        return errors;
    }

    public static List<FieldError> validate(VMSnapshotSpec spec) {
        List<FieldError> errors = new ArrayList<>();
        unreadable(spec, errors);
        if (spec == null || blank(spec.getVmName())) {
            errors.add(new FieldError("spec.vmName", "is required: the name of the VirtualMachine to snapshot"));
        }
        return errors;
    }

    public static List<FieldError> validate(VMRestoreSpec spec) {
        List<FieldError> errors = new ArrayList<>();
        unreadable(spec, errors);
        if (spec == null || blank(spec.getSnapshotName())) {
            errors.add(new FieldError("spec.snapshotName", "is required: the name of the VMSnapshot to restore"));
        }
        if (spec == null || blank(spec.getTargetVmName())) {
            errors.add(new FieldError("spec.targetVmName", "is required: the snapshot's own VM to roll back, or a new name to clone into"));
        }
        return errors;
    }

    /** Rules shared by VirtualMachine and VirtualMachineInstance specs. */
    static void machine(MachineSpec spec, List<FieldError> errors) {
        if (spec.getCpu() != null && (spec.getCpu() < 1 || spec.getCpu() > MAX_CPU)) {
            errors.add(new FieldError("spec.cpu", spec.getCpu() + " is out of range; use 1 to " + MAX_CPU));
        }
        if (spec.getMemory() != null) {
            if (!Quantities.isQuantity(spec.getMemory())) {
                errors.add(new FieldError("spec.memory", "\"" + spec.getMemory() + "\" is not a quantity (example: 512Mi)"));
            } else if (!Quantities.fitsInBytes(spec.getMemory())) {
                errors.add(new FieldError("spec.memory", spec.getMemory() + " is too large (example: 512Mi)"));
            } else if (Quantities.toBytes(spec.getMemory()) < MIN_MEMORY) {
                errors.add(new FieldError("spec.memory", spec.getMemory() + " is too small; use at least 16Mi"));
            } else if (Quantities.toBytes(spec.getMemory()) > MAX_MEMORY) {
                errors.add(new FieldError("spec.memory", spec.getMemory() + " is too large; use at most " + MachineLimits.MAX_MEMORY));
            }
        }
        BootRules.check(spec, errors);
        if (spec.getDisks() != null) {
            int max = MachineLimits.maxDisks(spec);
            if (spec.getDisks().size() > max) {
                Profile profile = SpecDefaults.profile(spec);
                int slots = MachineLimits.slots(spec);
                List<String> taken = MachineLimits.slotsTakenBy(spec);
                // One short message: the list itself is not repeated back.
                errors.add(new FieldError("spec.disks", "has " + spec.getDisks().size() + " disks; profile " + profile
                        + " attaches at most " + max + " (" + (profile == Profile.standard
                        ? "q35 has " + slots + " free PCI slots" : "microvm has " + slots + " virtio-mmio slots")
                        + (taken.isEmpty() ? "" : ", " + COUNT_WORDS.get(taken.size()) + " taken by " + joined(taken))
                        + ")"));
            } else {
                Set<String> names = new HashSet<>();
                for (int i = 0; i < spec.getDisks().size(); i++) {
                    if (spec.getDisks().get(i) != null) { // an unreadable entry is already reported
                        disk("spec.disks[" + i + "]", spec.getDisks().get(i), names, errors);
                    }
                }
            }
        }
        if (spec.getCloudInit() != null) {
            CloudInitRules.check(spec.getCloudInit(), errors);
        }
        network(spec, errors);
        if (spec.getReadiness() != null && spec.getReadiness().getSerialPattern() != null
                && spec.getReadiness().getSerialPattern().isBlank()) {
            errors.add(new FieldError("spec.readiness.serialPattern", "is empty; give the text the guest prints when ready, or leave readiness out"));
        }
        if (spec.getTerminationGracePeriodSeconds() != null && spec.getTerminationGracePeriodSeconds() < 0) {
            errors.add(new FieldError("spec.terminationGracePeriodSeconds", "must not be negative"));
        }
    }

    private static void disk(String at, DiskSpec disk, Set<String> names, List<FieldError> errors) {
        if (disk.getName() == null || !DNS_LABEL.matcher(disk.getName()).matches()) {
            errors.add(new FieldError(at + ".name", "\"" + disk.getName() + "\" is not a DNS label starting with a letter (at most 32 lowercase letters, digits and '-'; example: data)"));
        } else if (!names.add(disk.getName())) {
            errors.add(new FieldError(at + ".name", "\"" + disk.getName() + "\" is used by another disk; disk names must be unique"));
        }
        boolean hasSize = disk.getSize() != null;
        boolean hasSource = disk.getSource() != null;
        if (!hasSize && !hasSource) {
            errors.add(new FieldError(at, "needs size (a new empty disk, e.g. 1Gi) or source (an overlay on a base image: path or http)"));
        } else if (hasSize && hasSource) {
            errors.add(new FieldError(at, "has both size and source; give size for a new empty disk or source for an overlay, not both"));
        }
        if (hasSize && !Quantities.isQuantity(disk.getSize())) {
            errors.add(new FieldError(at + ".size", "\"" + disk.getSize() + "\" is not a quantity (example: 1Gi)"));
        } else if (hasSize && (!Quantities.fitsInBytes(disk.getSize()) || Quantities.toBytes(disk.getSize()) > MAX_DISK_SIZE)) {
            errors.add(new FieldError(at + ".size", disk.getSize() + " is too large; use at most " + MachineLimits.MAX_DISK_SIZE));
        }
        if (hasSource) {
            SourceRules.check(at + ".source", disk.getSource(), errors);
        }
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }
}
