package io.kubevmm.api.v1alpha1;

/** Label keys and API coordinates KubeVMM components agree on. */
public final class Labels {
    public static final String GROUP = "kubevmm.io";
    public static final String VERSION = "v1alpha1";
    /** On a VMI: the node that runs it. On other objects: the node that acts on them. */
    public static final String NODE = "kubevmm.io/node";
    public static final String SOURCE_NODE = "kubevmm.io/source-node";
    public static final String TARGET_NODE = "kubevmm.io/target-node";
    /** The VirtualMachine an object belongs to. */
    public static final String VM = "kubevmm.io/vm";

    /**
     * Annotations a VMRestore puts on the VM it restores while it runs: the snapshot, the
     * restore's uid (also on the VMI started from it) and the node that holds the snapshot.
     */
    public static final String RESTORE_FROM = "kubevmm.io/restore-from";
    public static final String RESTORE_ID = "kubevmm.io/restore-id";
    public static final String RESTORE_NODE = "kubevmm.io/restore-node";

    /**
     * Annotation the operator sets ({@code "true"}) on a VMI before it deletes it because its VM
     * is deleted (or rolled back to a snapshot, which brings its own disks): the node runtime then
     * deletes the VM's disks with the instance. Without it a VMI's deletion (stop) keeps the disks.
     */
    public static final String DELETE_DISKS = "kubevmm.io/delete-disks";

    private Labels() { }
}
