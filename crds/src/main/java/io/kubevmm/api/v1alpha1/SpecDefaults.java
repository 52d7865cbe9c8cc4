package io.kubevmm.api.v1alpha1;

import io.kubevmm.api.validation.Quantities;

/**
 * What a spec field means when it is left out, in one place. The CRD schema declares the same
 * values (its {@code @Default}s name these constants), so the API server fills them in on
 * create; the accessors here apply them to objects that never passed the schema (older objects,
 * tests, specs built in code) so that every reader agrees.
 */
public final class SpecDefaults {
    public static final String PROFILE = "microvm";
    public static final String CPU = "1";
    public static final String MEMORY = "256Mi";
    public static final String RESTART_POLICY = "Always";
    public static final String TERMINATION_GRACE_PERIOD_SECONDS = "30";
    public static final String STATE = "Running";
    public static final String SUSPEND_MODE = "Memory";
    public static final String MIGRATION_STRATEGY = "Auto";
    public static final String MAX_DOWNTIME_MILLIS = "300";
    public static final String BANDWIDTH_MIBPS = "0";
    public static final String AUTO_CONVERGE = "true";
    public static final String SNAPSHOT_TYPE = "FullState";

    private SpecDefaults() { }

    public static Profile profile(MachineSpec spec) {
        return spec.getProfile() == null ? Profile.valueOf(PROFILE) : spec.getProfile();
    }

    public static int cpu(MachineSpec spec) {
        return spec.getCpu() == null ? Integer.parseInt(CPU) : spec.getCpu();
    }

    /** {@code spec.memory} as a quantity, e.g. {@code 256Mi}. */
    public static String memory(MachineSpec spec) {
        return spec.getMemory() == null ? MEMORY : spec.getMemory();
    }

    public static long memoryBytes(MachineSpec spec) {
        return Quantities.toBytes(memory(spec));
    }

    public static RestartPolicy restartPolicy(RestartPolicy policy) {
        return policy == null ? RestartPolicy.valueOf(RESTART_POLICY) : policy;
    }

    public static long terminationGracePeriodSeconds(MachineSpec spec) {
        return spec.getTerminationGracePeriodSeconds() == null ? Long.parseLong(TERMINATION_GRACE_PERIOD_SECONDS)
                : spec.getTerminationGracePeriodSeconds();
    }

    /** The state a VirtualMachine asks for; a VM without a spec asks for the default too. */
    public static VmState state(VirtualMachineSpec spec) {
        return spec == null || spec.getState() == null ? VmState.valueOf(STATE) : spec.getState();
    }

    public static SuspendMode suspendMode(SuspendMode mode) {
        return mode == null ? SuspendMode.valueOf(SUSPEND_MODE) : mode;
    }

    public static VMMigrationSpec.Strategy strategy(VMMigrationSpec spec) {
        return spec.getStrategy() == null ? VMMigrationSpec.Strategy.valueOf(MIGRATION_STRATEGY) : spec.getStrategy();
    }

    public static long maxDowntimeMillis(VMMigrationSpec spec) {
        return spec.getMaxDowntimeMillis() == null ? Long.parseLong(MAX_DOWNTIME_MILLIS) : spec.getMaxDowntimeMillis();
    }

    public static long bandwidthMiBps(VMMigrationSpec spec) {
        return spec.getBandwidthMiBps() == null ? Long.parseLong(BANDWIDTH_MIBPS) : spec.getBandwidthMiBps();
    }

    public static boolean autoConverge(VMMigrationSpec spec) {
        return spec.getAutoConverge() == null ? Boolean.parseBoolean(AUTO_CONVERGE) : spec.getAutoConverge();
    }

    public static VMSnapshotSpec.Type snapshotType(VMSnapshotSpec spec) {
        return spec.getType() == null ? VMSnapshotSpec.Type.valueOf(SNAPSHOT_TYPE) : spec.getType();
    }
}
