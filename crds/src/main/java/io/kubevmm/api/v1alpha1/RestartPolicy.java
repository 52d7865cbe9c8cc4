package io.kubevmm.api.v1alpha1;

/** What the node does when the guest powers itself off or crashes. */
public enum RestartPolicy {
    /** Boot the guest again after a power-off or a crash. */
    Always,
    /** Boot it again after a crash only; a power-off ends it. */
    OnFailure,
    /** Never boot it again: a power-off ends it as Succeeded, a crash as Failed. */
    Never
}
