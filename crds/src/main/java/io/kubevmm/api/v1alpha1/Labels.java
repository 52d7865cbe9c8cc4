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

    private Labels() { }
}
