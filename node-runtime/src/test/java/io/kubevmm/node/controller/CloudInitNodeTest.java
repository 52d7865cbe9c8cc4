package io.kubevmm.node.controller;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.kubevmm.api.v1alpha1.BootSpec;
import io.kubevmm.api.v1alpha1.CloudInitSpec;
import io.kubevmm.api.v1alpha1.DiskSource;
import io.kubevmm.api.v1alpha1.DiskSpec;
import io.kubevmm.api.v1alpha1.Firmware;
import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.InstanceState;
import io.kubevmm.api.v1alpha1.NetworkMode;
import io.kubevmm.api.v1alpha1.NetworkSpec;
import io.kubevmm.api.v1alpha1.Profile;
import io.kubevmm.api.v1alpha1.ReadinessSpec;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceStatus;
import io.kubevmm.node.testing.GuestConsole;
import io.kubevmm.node.testing.RegisterCrds;
import io.kubevmm.node.testing.TestVmis;
import io.kubevmm.node.testing.Vmis;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** cloud-init through the whole node runtime and real QEMU: the seed a VM gets, from its spec or a Secret. */
@QuarkusTest
@WithKubernetesTestServer(crud = true, setup = RegisterCrds.class)
class CloudInitNodeTest {
    static final String NODE = ImageSourceNodeTest.NODE;
    static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl kubevmm-node-test";

    @Inject
    KubernetesClient client;
    TestVmis vmis;

    @BeforeEach
    void readVmis() {
        vmis = new TestVmis(client, ImageSourceNodeTest.BOOT);
    }

    static String mtype(Path image, String file) throws Exception {
        Process p = new ProcessBuilder("mtype", "-i", image.toString(), "::" + file).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        return out;
    }

    @Test
    void aMissingUserDataSecretHoldsTheVmBackNamingTheFieldAndItStartsOnceTheSecretExists() throws Exception {
        String token = "token-" + System.nanoTime();
        VirtualMachineInstance vmi = Vmis.vmi("ci-secret", NODE, "128Mi", "idle", InstanceState.Running);
        CloudInitSpec cloudInit = new CloudInitSpec();
        cloudInit.setUserDataSecretRef(new CloudInitSpec.SecretKeyRef("ci-userdata", "userdata"));
        vmi.getSpec().setCloudInit(cloudInit);
        client.resource(vmi).create();
        try {
            VirtualMachineInstanceStatus waiting = vmis.awaitStatus("ci-secret", ImageSourceNodeTest.BOOT,
                    s -> NodeRuntimeTest.condition(s, "Ready").map(c -> "SecretUnavailable".equals(c.getReason())).orElse(false));
            assertThat(waiting.getQemuPid()).as("nothing started").isNull();
            assertThat(NodeRuntimeTest.condition(waiting, "Ready")).hasValueSatisfying(c -> assertThat(c.getMessage())
                    .startsWith("spec.cloudInit.userDataSecretRef: Secret default/ci-userdata does not exist"));

            client.resource(new SecretBuilder().withNewMetadata().withName("ci-userdata").withNamespace("default").endMetadata()
                    .withStringData(Map.of("userdata", "#cloud-config\n# " + token + "\n")).build()).create();
            VirtualMachineInstanceStatus up = vmis.awaitStatus("ci-secret", ImageSourceNodeTest.BOOT,
                    s -> s.getPhase() == InstancePhase.Running && ImageSourceNodeTest.ready(s));
            Path seed = Path.of(up.getConsoleLog()).resolveSibling("cidata.img");
            assertThat(mtype(seed, "user-data")).isEqualTo("#cloud-config\n# " + token + "\n");
            assertThat(mtype(seed, "meta-data")).contains("\"instance-id\" : \"" + vmis.get("ci-secret").getMetadata().getUid() + "\"",
                    "\"local-hostname\" : \"ci-secret\"");
            assertThat(Serialization.asJson(vmis.get("ci-secret"))).as("the Secret's content is not in the VMI").doesNotContain(token);
            assertThat(vmis.events("ci-secret")).extracting(Event::getMessage).isNotEmpty().noneMatch(m -> m.contains(token));
        } finally {
            vmis.delete("ci-secret");
            client.secrets().inNamespace("default").withName("ci-userdata").delete();
        }
    }

    @Test
    void theDebianImageRunsTheUserDataAndGetsTheKeyAndHostnameFromTheSeed() throws Exception {
        VirtualMachineInstance vmi = Vmis.vmi("deb-ci", NODE, "768Mi", "idle", InstanceState.Running);
        vmi.getSpec().setProfile(Profile.standard);
        vmi.getSpec().setCpu(2);
        BootSpec boot = new BootSpec();
        boot.setFirmware(Firmware.uefi);
        vmi.getSpec().setBoot(boot);
        DiskSpec root = new DiskSpec();
        root.setName("root");
        root.setBootOrder(1);
        root.setSource(new DiskSource("debian-bookworm.qcow2"));
        vmi.getSpec().setDisks(List.of(root));
        NetworkSpec network = new NetworkSpec();
        network.setMode(NetworkMode.user);
        vmi.getSpec().setNetwork(network);
        CloudInitSpec cloudInit = new CloudInitSpec();
        cloudInit.setSshAuthorizedKeys(List.of(KEY));
        cloudInit.setUserData("""
                #cloud-config
                runcmd:
                  - echo "KUBEVMM-CLOUD-INIT host=$(hostname) keys=$(grep -c kubevmm-node-test /home/debian/.ssh/authorized_keys)" > /dev/ttyS0
                """);
        vmi.getSpec().setCloudInit(cloudInit);
        ReadinessSpec readiness = new ReadinessSpec();
        readiness.setSerialPattern("KUBEVMM-CLOUD-INIT");
        vmi.getSpec().setReadiness(readiness);
        client.resource(vmi).create();
        try {
            VirtualMachineInstanceStatus up = vmis.awaitStatus("deb-ci", ImageSourceNodeTest.FIRMWARE_BOOT,
                    s -> s.getPhase() == InstancePhase.Running && ImageSourceNodeTest.ready(s));
            String console = new GuestConsole(Path.of(up.getConsoleLog())).text();
            assertThat(console).as("cloud-init ran the user-data, named the host and installed the key for the default user")
                    .contains("KUBEVMM-CLOUD-INIT host=deb-ci keys=1");
            System.out.printf("Debian under %s: cloud-init's runcmd %d ms after start%n", up.getAccelerator(), up.getBootMillis());
            assertThat(Files.exists(Path.of(up.getConsoleLog()).resolveSibling("cidata.img"))).isTrue();
        } finally {
            vmis.delete("deb-ci");
        }
    }
}
