package io.kubevmm.api;

import io.kubevmm.api.v1alpha1.CloudInitSpec;
import io.kubevmm.api.v1alpha1.DiskSpec;
import io.kubevmm.api.v1alpha1.VirtualMachineSpec;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** What spec.cloudInit may hold: the seed's documents and keys, refused naming the field. */
class CloudInitRulesTest {
    static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user@host";

    static VirtualMachineSpec with(CloudInitSpec cloudInit) {
        VirtualMachineSpec spec = SpecValidatorTest.vm();
        spec.setCloudInit(cloudInit);
        return spec;
    }

    static CloudInitSpec keys(String... keys) {
        CloudInitSpec c = new CloudInitSpec();
        c.setSshAuthorizedKeys(List.of(keys));
        return c;
    }

    @Test
    void inlineUserDataWithKeysAndNetworkConfigIsAccepted() {
        CloudInitSpec c = keys(KEY, "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY=");
        c.setUserData("#cloud-config\npackages: [nginx]\n");
        c.setNetworkData("version: 2\nethernets:\n  eth0: {dhcp4: true}\n");
        assertThat(SpecValidatorTest.errors(with(c))).isEmpty();
        assertThat(SpecValidatorTest.errors(with(new CloudInitSpec()))).as("an empty seed still names the instance and host").isEmpty();
    }

    @Test
    void userDataInlineAndFromASecretAtOnceIsRefused() {
        CloudInitSpec c = new CloudInitSpec();
        c.setUserData("#cloud-config\n");
        c.setUserDataSecretRef(new CloudInitSpec.SecretKeyRef("init", "userdata"));
        assertThat(SpecValidatorTest.errors(with(c))).singleElement().asString()
                .startsWith("spec.cloudInit has both userData and userDataSecretRef");
    }

    @Test
    void aSecretReferenceNeedsAValidNameAndKey() {
        CloudInitSpec c = new CloudInitSpec();
        c.setUserDataSecretRef(new CloudInitSpec.SecretKeyRef("../etc", "user data"));
        assertThat(SpecValidatorTest.errors(with(c))).containsExactly(
                "spec.cloudInit.userDataSecretRef.name \"../etc\" is not a Secret name; give the name of a Secret in the VM's namespace",
                "spec.cloudInit.userDataSecretRef.key \"user data\" is not a Secret key; give the key in the Secret's data that holds the user-data (example: userdata)");
        c.setUserDataSecretRef(new CloudInitSpec.SecretKeyRef(null, null));
        assertThat(SpecValidatorTest.errors(with(c))).hasSize(2).allSatisfy(e -> assertThat(e).contains("is required"));
    }

    @Test
    void anSshKeyIsOnePublicKeyLine() {
        assertThat(SpecValidatorTest.errors(with(keys(KEY + "\nssh-rsa AAAA smuggled")))).singleElement().asString()
                .startsWith("spec.cloudInit.sshAuthorizedKeys[0] contains a line break");
        assertThat(SpecValidatorTest.errors(with(keys(KEY, "command=\"/bin/sh\" " + KEY)))).singleElement().asString()
                .startsWith("spec.cloudInit.sshAuthorizedKeys[1] \"command=\"/bin/sh\" ssh-ed25519 AAAAC3N...\" does not start with a key type");
        assertThat(SpecValidatorTest.errors(with(keys("ssh-ed25519 not*base64")))).singleElement().asString()
                .contains("is not base64");
        assertThat(SpecValidatorTest.errors(with(keys(" ")))).singleElement().asString().contains("is empty");
        List<String> many = new ArrayList<>();
        for (int i = 0; i <= CloudInitSpec.MAX_KEYS; i++) {
            many.add(KEY);
        }
        assertThat(SpecValidatorTest.errors(with(keys(many.toArray(String[]::new))))).singleElement().asString()
                .isEqualTo("spec.cloudInit.sshAuthorizedKeys has 33 keys, more than 32");
    }

    @Test
    void documentsLargerThanTheSeedTakesAreRefused() {
        CloudInitSpec c = new CloudInitSpec();
        c.setUserData("#cloud-config\n" + "#".repeat(CloudInitSpec.MAX_DOCUMENT));
        c.setNetworkData("x".repeat(CloudInitSpec.MAX_DOCUMENT + 1));
        assertThat(SpecValidatorTest.errors(with(c))).hasSize(2)
                .anySatisfy(e -> assertThat(e).startsWith("spec.cloudInit.userData has 65550 bytes, more than 65536"))
                .anySatisfy(e -> assertThat(e).startsWith("spec.cloudInit.networkData has 65537 bytes"));
    }

    @Test
    void theSeedTakesADiskSlot() {
        VirtualMachineSpec spec = with(new CloudInitSpec());
        List<DiskSpec> disks = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            disks.add(SpecValidatorTest.disk("d" + i, "1Gi", null));
        }
        spec.setDisks(disks);
        assertThat(SpecValidatorTest.errors(spec)).containsExactly(
                "spec.disks has 24 disks; profile microvm attaches at most 23 (microvm has 24 virtio-mmio slots, one taken by the cloud-init seed)");
    }
}
