package io.kubevmm.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.List;
import java.util.Map;

/**
 * {@code stop NAME}: spec.state=Defined (instance and QEMU go away, disks stay on their node);
 * {@code --halt} keeps it Stopped on its node. Says what is kept and how to remove it.
 */
@Command(name = "stop", description = {
        "Stop a VM (spec.state=Defined): the guest is shut down, its instance and memory are released.",
        "Its disks are kept on the node that holds them (status.diskNode); the VM starts there again.",
        "`kubevmm delete vm NAME` removes the disks with the VM."})
final class StopCommand extends ClusterCommand {
    @Parameters(paramLabel = "NAME")
    String name;

    @Option(names = "--halt", description = "Keep the instance on its node with vCPUs halted (spec.state=Stopped), so it starts fast; disks are kept too.")
    boolean halt;

    @Override
    public Integer call() {
        Map<String, Object> vm = ClusterObjects.tree(objects().require(Kind.VM, namespace(), name));
        int code = StatePatch.apply(this, name, halt ? "Stopped" : "Defined", null);
        out().println(kept(vm, name, halt));
        out().flush();
        return code;
    }

    /** What survives the stop: the disks, on which node, and what removes them. */
    static String kept(Map<String, Object> vm, String name, boolean halt) {
        Object disks = JsonPath.read(vm, ".spec.disks");
        String node = JsonPath.string(vm, ".status.diskNode");
        if (node == null) {
            node = JsonPath.string(vm, ".status.nodeName");
        }
        String instance = halt ? "the instance stays on " + (node == null ? "its node" : "node " + node) + " with vCPUs halted; "
                : "the guest is shut down and its memory released; ";
        if (!(disks instanceof List<?> list) || list.isEmpty()) {
            return instance + "the VM has no disks";
        }
        return instance + "disks are kept on " + (node == null ? "the node that holds them" : node)
                + "; `kubevmm delete vm " + name + "` removes them";
    }
}
