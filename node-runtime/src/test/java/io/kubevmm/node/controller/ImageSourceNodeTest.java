package io.kubevmm.node.controller;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubevmm.api.v1alpha1.BootSpec;
import io.kubevmm.api.v1alpha1.DiskSource;
import io.kubevmm.api.v1alpha1.DiskSpec;
import io.kubevmm.api.v1alpha1.Firmware;
import io.kubevmm.api.v1alpha1.ImageStatus;
import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.InstanceState;
import io.kubevmm.api.v1alpha1.Profile;
import io.kubevmm.api.v1alpha1.ReadinessSpec;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceStatus;
import io.kubevmm.node.config.NodeConfig;
import io.kubevmm.node.testing.GuestConsole;
import io.kubevmm.node.testing.ImageServer;
import io.kubevmm.node.testing.RegisterCrds;
import io.kubevmm.node.testing.TestVmis;
import io.kubevmm.node.testing.Vmis;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Disks whose base image is downloaded over HTTP (a real server on loopback) and firmware boot,
 * through the whole node runtime and real QEMU.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true, setup = RegisterCrds.class)
class ImageSourceNodeTest {
    private static final Logger LOG = Logger.getLogger(ImageSourceNodeTest.class);
    static final Duration BOOT = Duration.ofSeconds(90);
    /** Debian under TCG through OVMF: measured well under this on a loaded 2-core host. */
    static final Duration FIRMWARE_BOOT = Duration.ofMinutes(6);
    static final String NODE = "test-node";

    @Inject
    KubernetesClient client;
    TestVmis vmis;

    @BeforeEach
    void readVmis() {
        vmis = new TestVmis(client, BOOT);
    }
    @Inject
    NodeConfig config;
    ImageServer server;

    @BeforeEach
    void serve() throws Exception {
        server = new ImageServer();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    List<String> eventReasons(String name) {
        return vmis.events(name).stream().map(Event::getReason).toList();
    }

    static VirtualMachineInstance withHttpDisk(String name, String url, String sha256) {
        VirtualMachineInstance vmi = Vmis.vmi(name, NODE, "128Mi", "idle", InstanceState.Running);
        DiskSpec disk = new DiskSpec();
        disk.setName("base");
        disk.setSource(DiskSource.http(url, sha256));
        vmi.getSpec().setDisks(List.of(disk));
        return vmi;
    }

    static boolean ready(VirtualMachineInstanceStatus s) {
        return NodeRuntimeTest.condition(s, "Ready").map(c -> "True".equals(c.getStatus())).orElse(false);
    }

    @Test
    void twoVmsBootFromOneVerifiedDownloadAndAWrongChecksumIsRefusedNamingTheField() throws Exception {
        Path image = Files.createTempFile("kubevmm-base", ".raw");
        byte[] bytes = new byte[4 << 20];
        new Random().nextBytes(bytes); // new content each run: never in the cache already
        Files.write(image, bytes);
        String sha = ImageServer.sha256(image);
        String url = server.serve("base.raw", image);
        try {
            server.holdAnswers(); // both VMs start while the one download is under way
            client.resource(withHttpDisk("img-a", url, sha)).create();
            client.resource(withHttpDisk("img-b", url, sha)).create();
            for (String vm : List.of("img-a", "img-b")) {
                VirtualMachineInstanceStatus waiting = vmis.awaitStatus(vm, BOOT, s -> s.getImages() != null);
                assertThat(waiting.getPhase()).isEqualTo(InstancePhase.Pending);
                assertThat(waiting.getQemuPid()).isNull();
                assertThat(waiting.getImages()).singleElement().satisfies(i -> {
                    assertThat(i.getDisk()).isEqualTo("base");
                    assertThat(i.getSha256()).isEqualTo(sha);
                    assertThat(i.getPhase()).isEqualTo(ImageStatus.Phase.Downloading);
                });
                assertThat(NodeRuntimeTest.condition(waiting, "Ready")).hasValueSatisfying(c -> {
                    assertThat(c.getReason()).isEqualTo("ImageDownloading");
                    assertThat(c.getMessage()).startsWith("spec.disks[0].source.http (disk base): downloading from 127.0.0.1:");
                });
            }
            server.release();
            for (String vm : List.of("img-a", "img-b")) {
                VirtualMachineInstanceStatus running = vmis.awaitStatus(vm, BOOT, s -> s.getPhase() == InstancePhase.Running && ready(s));
                assertThat(running.getImages()).as("no image status once the image is cached").isNull();
                GuestConsole console = new GuestConsole(Path.of(running.getConsoleLog()));
                await().atMost(BOOT).until(() -> console.text().contains("disk vda present " + bytes.length));
                // The disk is an overlay on the cache's verified file, not on anything the URL named.
                Path overlay = Path.of(running.getConsoleLog()).resolveSibling("disk-base.qcow2");
                Path cached = config.stateDir().toAbsolutePath().normalize().resolve("image-cache").resolve(sha);
                assertThat(io.kubevmm.node.images.CacheSweeperAccess.backingFile(overlay)).contains(cached.toString());
                assertThat(cached).hasSameBinaryContentAs(image);
                await().atMost(BOOT).until(() -> eventReasons(vm).containsAll(List.of("ImageDownloading", "ImagesReady")));
            }
            assertThat(server.requests("base.raw")).as("one download for both VMs").isEqualTo(1);

            String wrong = "0".repeat(64);
            client.resource(withHttpDisk("img-bad", server.serve("other.raw", image), wrong)).create();
            VirtualMachineInstanceStatus bad = vmis.awaitStatus("img-bad", BOOT, s -> s.getPhase() == InstancePhase.Failed);
            assertThat(NodeRuntimeTest.condition(bad, "Failure")).hasValueSatisfying(c -> {
                assertThat(c.getReason()).isEqualTo("ImageChecksumMismatch");
                assertThat(c.getMessage()).startsWith("spec.disks[0].source.http (disk base): the downloaded image has SHA-256 " + sha);
            });
            assertThat(bad.getImages()).singleElement().satisfies(i -> {
                assertThat(i.getPhase()).isEqualTo(ImageStatus.Phase.Failed);
                assertThat(i.getReason()).isEqualTo("ImageChecksumMismatch");
            });
            assertThat(bad.getQemuPid()).isNull();
            await().atMost(BOOT).until(() -> eventReasons("img-bad").contains("ImageChecksumMismatch"));
            assertThat(ready(vmis.get("img-a").getStatus())).as("the node and its other VMs are unaffected").isTrue();

            client.resource(withHttpDisk("img-404", server.url("missing.raw"), sha.replace('a', 'b').replace('0', '1'))).create();
            VirtualMachineInstanceStatus missing = vmis.awaitStatus("img-404", BOOT, s -> s.getPhase() == InstancePhase.Failed);
            assertThat(NodeRuntimeTest.condition(missing, "Failure")).hasValueSatisfying(c -> assertThat(c.getReason()).isEqualTo("ImageNotFound"));
        } finally {
            vmis.delete("img-a", "img-b", "img-bad", "img-404");
            Files.deleteIfExists(image);
        }
    }

    @Test
    void theDebianImageBootsThroughUefiFromAnHttpSourceAndKeepsItsVariablesAcrossARestart() throws Exception {
        Path debian = Path.of(config.imageDir().toString(), "debian-bookworm.qcow2");
        assertThat(debian).as("built by guest/build-os-image.sh").exists();
        String sha = ImageServer.sha256(debian);
        Files.deleteIfExists(config.stateDir().toAbsolutePath().normalize().resolve("image-cache").resolve(sha)); // a fresh download
        VirtualMachineInstance vmi = Vmis.vmi("debian", NODE, "768Mi", "idle", InstanceState.Running);
        vmi.getSpec().setProfile(Profile.standard);
        vmi.getSpec().setCpu(2);
        BootSpec boot = new BootSpec();
        boot.setFirmware(Firmware.uefi);
        vmi.getSpec().setBoot(boot);
        ReadinessSpec readiness = new ReadinessSpec();
        readiness.setSerialPattern("login:");
        vmi.getSpec().setReadiness(readiness);
        DiskSpec root = new DiskSpec();
        root.setName("root");
        root.setBootOrder(1);
        root.setSource(DiskSource.http(server.serve("debian-bookworm.qcow2", debian), sha));
        vmi.getSpec().setDisks(List.of(root));
        client.resource(vmi).create();
        try {
            VirtualMachineInstanceStatus up = vmis.awaitStatus("debian", FIRMWARE_BOOT, s -> s.getPhase() == InstancePhase.Running && ready(s));
            LOG.infof("Debian through OVMF under %s: login prompt %d ms after start", up.getAccelerator(), up.getBootMillis());
            String console = new GuestConsole(Path.of(up.getConsoleLog())).text();
            assertThat(console).contains("Debian GNU/Linux 12", "login:");
            assertThat(server.requests("debian-bookworm.qcow2")).isEqualTo(1);
            Path vars = Path.of(up.getConsoleLog()).resolveSibling("uefi-vars.fd");
            assertThat(vars).exists();
            Object inode = Files.getAttribute(vars, "unix:ino");

            client.resources(VirtualMachineInstance.class).inNamespace("default").withName("debian")
                    .edit(v -> { v.getSpec().setState(InstanceState.Stopped); return v; });
            vmis.awaitStatus("debian", BOOT, s -> s.getPhase() == InstancePhase.Stopped);
            client.resources(VirtualMachineInstance.class).inNamespace("default").withName("debian")
                    .edit(v -> { v.getSpec().setState(InstanceState.Running); return v; });
            vmis.awaitStatus("debian", FIRMWARE_BOOT, s -> s.getPhase() == InstancePhase.Running && ready(s) && s.getBootMillis() != null
                    && s.getStartedTime() != null && !s.getStartedTime().equals(up.getStartedTime()));
            assertThat(vmis.get("debian").getStatus().getQemuPid()).as("a new QEMU").isNotEqualTo(up.getQemuPid());
            assertThat(Files.getAttribute(vars, "unix:ino")).as("the same variables file after a restart").isEqualTo(inode);
        } finally {
            vmis.delete("debian");
        }
    }
}
