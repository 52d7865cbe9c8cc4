package io.kubevmm.e2e;

import io.kubevmm.api.v1alpha1.DiskSpec;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VmPhase;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Disks live as long as the VM: `kubevmm stop` (spec.state Defined, no instance left) keeps what
 * the guest wrote on the node that holds the disk, `kubevmm start` boots it there again and the
 * guest finds its data; deleting the VM removes the disks from that node's state dir.
 */
class DiskLifetimeSystemTest extends ClusterTestBase {
    /** The node's sweep of kept disks runs every 15 s; deleting a stopped VM's disks waits for it. */
    static final Duration SWEEP = Duration.ofSeconds(60);

    @Override
    String clusterDirName() {
        return "disk-lifetime-test-cluster";
    }

    static VirtualMachine withDataDisk(VirtualMachine vm) {
        DiskSpec disk = new DiskSpec();
        disk.setName("data");
        disk.setSize("64Mi");
        vm.getSpec().setDisks(List.of(disk));
        return vm;
    }

    Path stateDir(String node, String name) {
        return cluster.home().nodeStateDir(node).resolve("vms").resolve("default_" + name);
    }

    String token(String vm, String verb) throws Exception {
        var m = Pattern.compile("disk " + verb + " ([0-9a-f]+)").matcher(console(vm));
        String last = null;
        while (m.find()) {
            last = m.group(1);
        }
        return last;
    }

    @Test
    void stopThenStartKeepsWhatTheGuestWroteOnTheSameNodeAndDeletingTheVmRemovesTheDisks() throws Exception {
        assumeLocalCluster();
        client.resource(withDataDisk(vm("keeper", "256Mi", "disk:vda"))).create();
        awaitPhase("keeper", VmPhase.Running, true);
        await().atMost(BOOT).ignoreExceptions().until(() -> token("keeper", "wrote") != null);
        String written = token("keeper", "wrote");
        String node = vmi("keeper").getStatus().getNodeName();
        Path dir = stateDir(node, "keeper");
        assertThat(dir.resolve("disk-data.qcow2")).exists();
        assertThat(get("keeper").getStatus().getDiskNode()).isEqualTo(node);

        Cli stop = kubevmm("stop", "keeper");

        assertThat(stop.code()).as(stop.out()).isZero();
        assertThat(stop.out()).contains("spec.state=Defined")
                .contains("disks are kept on " + node + "; `kubevmm delete vm keeper` removes them");
        VirtualMachine defined = awaitPhase("keeper", VmPhase.Defined, false);
        assertThat(vmi("keeper")).as("Defined: no instance").isNull();
        assertThat(defined.getStatus().getDiskNode()).as("status says which node holds the disks").isEqualTo(node);
        assertThat(dir.resolve("disk-data.qcow2")).as("the disk survives the stop").exists();
        assertThat(dir.resolve("qemu.pid")).as("nothing of the instance is left").doesNotExist();
        assertThat(dir.resolve("console.log")).doesNotExist();

        Cli start = kubevmm("start", "keeper");

        assertThat(start.code()).as(start.out()).isZero();
        awaitPhase("keeper", VmPhase.Running, true);
        assertThat(vmi("keeper").getStatus().getNodeName()).as("starts again on the node that holds its disk").isEqualTo(node);
        await().atMost(BOOT).ignoreExceptions().until(() -> token("keeper", "found") != null);
        assertThat(token("keeper", "found")).as("the guest finds what it wrote before the stop").isEqualTo(written);
        assertThat(token("keeper", "wrote")).as("and writes nothing new: the token was there").isNull();

        Cli delete = kubevmm("delete", "vm", "keeper", "--wait");

        assertThat(delete.code()).as(delete.out()).isZero();
        await().atMost(BOOT).until(() -> get("keeper") == null && vmi("keeper") == null);
        await().atMost(SWEEP).untilAsserted(() -> assertThat(dir).as("the VM's disks go with the VM").doesNotExist());
    }

    @Test
    void deletingAStoppedVmRemovesTheDisksItKept() throws Exception {
        assumeLocalCluster();
        client.resource(withDataDisk(vm("parked", "256Mi", "disk:vda"))).create();
        awaitPhase("parked", VmPhase.Running, true);
        await().atMost(BOOT).ignoreExceptions().until(() -> token("parked", "wrote") != null);
        String node = vmi("parked").getStatus().getNodeName();
        Path dir = stateDir(node, "parked");

        assertThat(kubevmm("stop", "parked").code()).isZero();
        awaitPhase("parked", VmPhase.Defined, false);
        assertThat(dir.resolve("disk-data.qcow2")).exists();

        Cli delete = kubevmm("delete", "vm", "parked", "--wait");

        assertThat(delete.code()).as(delete.out()).isZero();
        await().atMost(SWEEP).untilAsserted(() -> assertThat(dir).as("a Defined VM's kept disks go with the VM").doesNotExist());
    }
}
