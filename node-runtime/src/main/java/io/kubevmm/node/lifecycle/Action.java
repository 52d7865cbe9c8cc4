package io.kubevmm.node.lifecycle;

/** One step the runner takes to move a machine towards the desired state. */
public enum Action {
    NONE,
    CREATE,
    START,
    PAUSE,
    RESUME,
    SAVE_TO_DISK,
    RESTORE_FROM_DISK,
    /** ACPI power-down, kill after the grace period, then back to a fresh created machine. */
    POWER_DOWN,
    /** Drop the current process (paused or halted guest) and create a fresh one. */
    RECREATE,
    /** Boot the guest again after it powered off or crashed (restart policy). */
    RESTART_GUEST,
    DISCARD_SAVED_STATE,
    /** Release the process of a guest that stays off (restart policy). */
    FINISH,
    /** Release the process of a crashed guest the restart policy does not restart. */
    FAIL,
    /** Live-migrate the guest to another node (requested by a VMMigration, not by the lifecycle). */
    MIGRATE_OUT
}
