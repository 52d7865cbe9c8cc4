package io.kubevmm.e2e;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.v1alpha1.DiskSpec;
import io.kubevmm.api.v1alpha1.FileRef;
import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.SnapshotArtifact;
import io.kubevmm.api.v1alpha1.VMNode;
import io.kubevmm.api.v1alpha1.VMSnapshot;
import io.kubevmm.api.v1alpha1.VMSnapshotSpec;
import io.kubevmm.api.v1alpha1.VMSnapshotStatus.Phase;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VmPhase;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A hostile tenant's disk paths against the real cluster: a host file, an absolute path, a
 * symlink out of the image directory and another VM's snapshot memory are each refused naming
 * {@code spec.disks[0].source.path}, and no QEMU ever starts for them; the node API answers a
 * traversal in a VM name with 404. The node runtimes' image directory here is the cluster's
 * {@code nodes/} directory, which holds the nodes' state dirs: the overlap a careless install
 * makes, so the snapshot store is reachable by a plain relative name and only the node's own
 * check keeps it out.
 */
class PathConfinementSystemTest extends ClusterTestBase {
    static final String FIELD = "spec.disks[0].source.path";
    static final String NODE = "node-a";
    Path images;

    @Override
    String clusterDirName() {
        return "paths-test-cluster";
    }

    @Override
    void beforeUp(LocalCluster cluster) throws IOException {
        images = Files.createDirectories(cluster.home().nodesDir());
        Path guest = Path.of(System.getProperty("kubevmm.repo.root", "..")).toAbsolutePath().resolve("guest/out");
        for (String file : List.of("vmlinuz", "initrd.img")) {
            Files.copy(guest.resolve(file), images.resolve(file), StandardCopyOption.REPLACE_EXISTING);
        }
        Files.deleteIfExists(images.resolve("leak.raw"));
        Files.createSymbolicLink(images.resolve("leak.raw"), Path.of("/etc/shadow"));
        cluster.imageDir(images);
    }

    /** A VM on node-a with one disk overlaid on {@code source}. */
    static VirtualMachine withDisk(String name, String source) {
        VirtualMachine vm = vm(name, "128Mi", "idle");
        DiskSpec disk = new DiskSpec();
        disk.setName("leak");
        disk.setSource(new io.kubevmm.api.v1alpha1.DiskSource(source));
        vm.getSpec().setDisks(List.of(disk));
        vm.getSpec().setNodeSelector(Map.of("kubevmm.io/node", NODE));
        return vm;
    }

    /** The VM's conditions name the field, it ends Failed (or Valid=False), and no QEMU ever ran for it. */
    void assertRefusedAndNothingRead(String name, String why) {
        await().atMost(BOOT).pollInterval(Duration.ofMillis(200)).until(() -> {
            VirtualMachine vm = get(name);
            return vm != null && vm.getStatus() != null && vm.getStatus().getPhase() == VmPhase.Failed
                    && vm.getStatus().getConditions().stream().anyMatch(c -> "False".equals(c.getStatus())
                    && c.getMessage() != null && c.getMessage().contains(FIELD));
        });
        VirtualMachine vm = get(name);
        assertThat(vm.getStatus().getConditions()).as("a condition of %s names %s", name, FIELD)
                .anySatisfy(c -> assertThat(c.getMessage()).contains(FIELD).contains(why));
        VirtualMachineInstance vmi = vmi(name);
        if (vmi != null) {
            assertThat(vmi.getStatus().getPhase()).isEqualTo(InstancePhase.Failed);
            assertThat(vmi.getStatus().getQemuPid()).as("QEMU never started for %s", name).isNull();
            assertThat(client.v1().events().inNamespace("default").list().getItems())
                    .as("a Warning Event on the VMI names the field")
                    .anySatisfy(e -> {
                        assertThat(e.getType()).isEqualTo("Warning");
                        assertThat(e.getInvolvedObject().getName()).isEqualTo(name);
                        assertThat(e.getMessage()).contains(FIELD);
                    });
        }
        // qemu-img never ran either: the overlay that would have read the base does not exist.
        assertThat(cluster.home().nodeStateDir(NODE).resolve("vms/default_" + name + "/disk-leak.qcow2")).doesNotExist();
    }

    @Test
    void theHostsShadowFileIsRefusedAsADisk() {
        client.resource(withDisk("leak-shadow", "/etc/shadow")).create();
        assertRefusedAndNothingRead("leak-shadow", "absolute path");
        deleteAndAwaitGone("leak-shadow");
    }

    @Test
    void anAbsolutePathIsRefusedEvenWhenItPointsIntoTheImageDirectory() {
        client.resource(withDisk("leak-absolute", images.resolve("vmlinuz").toString())).create();
        assertRefusedAndNothingRead("leak-absolute", "absolute path");
        deleteAndAwaitGone("leak-absolute");
    }

    @Test
    void aSymlinkLeadingOutOfTheImageDirectoryIsRefusedByTheNode() {
        client.resource(withDisk("leak-link", "leak.raw")).create();
        assertRefusedAndNothingRead("leak-link", "leads out of the node's image directory");
        assertThat(condition(get("leak-link"), "Valid").getStatus()).as("statically fine: only the node can tell").isEqualTo("True");
        assertThat(condition(get("leak-link"), "Ready").getMessage()).doesNotContain("/etc/shadow");
        deleteAndAwaitGone("leak-link");
    }

    @Test
    void anotherVmsSnapshotMemoryIsRefusedAndTheConsoleCannotBeReachedByTraversal() throws Exception {
        VirtualMachine victim = vm("victim", "128Mi", "idle");
        victim.getSpec().setNodeSelector(Map.of("kubevmm.io/node", NODE));
        client.resource(victim).create();
        awaitPhase("victim", VmPhase.Running, true);
        VMSnapshotSpec spec = new VMSnapshotSpec();
        spec.setVmName("victim");
        spec.setType(VMSnapshotSpec.Type.FullState);
        VMSnapshot snapshot = new VMSnapshot();
        snapshot.setMetadata(new ObjectMetaBuilder().withName("victim-mem").withNamespace("default").build());
        snapshot.setSpec(spec);
        client.resource(snapshot).create();
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(200)).until(() -> {
            VMSnapshot s = client.resources(VMSnapshot.class).inNamespace("default").withName("victim-mem").get();
            return s.getStatus() != null && (s.getStatus().getPhase() == Phase.Ready || s.getStatus().getPhase() == Phase.Failed);
        });
        VMSnapshot ready = client.resources(VMSnapshot.class).inNamespace("default").withName("victim-mem").get();
        assertThat(ready.getStatus().getPhase()).as("error: %s", ready.getStatus().getError()).isEqualTo(Phase.Ready);
        SnapshotArtifact state = ready.getStatus().getContents().stream().filter(a -> a.getName().startsWith("state"))
                .findFirst().orElseThrow();
        assertThat(state.getPath()).as("status shows no host path").isEqualTo("default_victim-mem/state.bin");
        String reachable = NODE + "/snapshots/" + state.getPath();
        assertThat(images.resolve(reachable)).as("the plain relative name reaches the state file").isRegularFile();

        client.resource(withDisk("leak-memory", reachable)).create();
        assertRefusedAndNothingRead("leak-memory", "snapshot store");
        deleteAndAwaitGone("leak-memory");

        // The victim's console through a name that decodes to default_victim/../default_victim:
        // the file exists, so only the name check stands between the request and it.
        String endpoint = client.resources(VMNode.class).withName(NODE).get().getStatus().getEndpoint();
        for (String path : List.of("/api/v1/namespaces/default/vms/victim%2F..%2Fdefault_victim/console",
                "/api/v1/namespaces/default/vms/..%2F..%2F..%2F..%2Fetc/console",
                "/api/v1/namespaces/default_victim%2F..%2Fdefault/vms/victim/console",
                "/api/v1/namespaces/default/vms/victim%2F..%2Fdefault_victim")) {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://" + endpoint + path))
                    .header("Authorization", "Bearer " + nodeToken).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as(path).isEqualTo(404);
            assertThat(response.body()).doesNotContain("KUBEVMM-GUEST-READY");
        }
        assertThat(console("victim")).as("the plain name still works").contains("KUBEVMM-GUEST-READY");

        client.resources(VMSnapshot.class).inNamespace("default").withName("victim-mem").delete();
        await().atMost(Duration.ofMinutes(2)).until(() ->
                client.resources(VMSnapshot.class).inNamespace("default").withName("victim-mem").get() == null);
        deleteAndAwaitGone("victim");
        assertThat(Conditions.find(client.resources(VMNode.class).withName(NODE).get().getStatus().getConditions(), "QemuUnprivileged"))
                .as("the node says how QEMU is confined").isPresent();
    }
}
