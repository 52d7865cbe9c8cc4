package io.kubevmm.node.engine.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.engine.VmConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The NoCloud seed, written with the real dosfstools and mtools and read back with mtools. */
class CloudInitSeedTest {
    static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl \"quoted\" user";

    @TempDir
    Path dir;

    VmConfig vm(String name, VmConfig.CloudInit cloudInit) {
        return new VmConfig("default_" + name, dir.resolve(name), VmConfig.Profile.STANDARD, 1, 256L << 20, null, null, "",
                List.of(), VmConfig.NetworkMode.USER, "52:54:00:00:00:03", null, cloudInit);
    }

    static VmConfig.CloudInit cloudInit(String instanceId, String networkData, String userData) {
        return new VmConfig.CloudInit(instanceId, "web-1", List.of(KEY), networkData, () -> userData.getBytes(StandardCharsets.UTF_8));
    }

    static String read(Path image, String file) throws Exception {
        Process p = new ProcessBuilder("mtype", "-i", image.toString(), "::" + file).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("mtype %s: %s", file, out).isZero();
        return out;
    }

    static String files(Path image) throws Exception {
        Process p = new ProcessBuilder("mdir", "-b", "-i", image.toString(), "::").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }

    static String label(Path image) throws Exception {
        Process p = new ProcessBuilder("mlabel", "-s", "-i", image.toString(), "::").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }

    @Test
    void theSeedHoldsTheDocumentsUnderTheCidataLabel() throws Exception {
        VmConfig config = vm("web-1", cloudInit("3f6c0a5e-uid", "version: 2\n", "#cloud-config\nruncmd: [touch /ok]\n"));
        Files.createDirectories(config.stateDir());
        new CloudInitSeed().write(config);

        Path seed = config.cloudInitSeed();
        assertThat(label(seed)).contains("CIDATA");
        JsonNode meta = new ObjectMapper().readTree(read(seed, "meta-data"));
        assertThat(meta.get("instance-id").asText()).isEqualTo("3f6c0a5e-uid");
        assertThat(meta.get("local-hostname").asText()).isEqualTo("web-1");
        assertThat(meta.get("public-keys").get(0).asText()).as("a key with quotes stays one string").isEqualTo(KEY);
        assertThat(read(seed, "user-data")).isEqualTo("#cloud-config\nruncmd: [touch /ok]\n");
        assertThat(read(seed, "network-config")).isEqualTo("version: 2\n");
        assertThat(Files.getPosixFilePermissions(seed)).as("it may hold a Secret's content")
                .containsExactlyInAnyOrder(java.nio.file.attribute.PosixFilePermission.OWNER_READ, java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
        try (var left = Files.list(config.stateDir())) {
            assertThat(left.map(p -> p.getFileName().toString())).as("no plain copy of the documents is left").containsExactly("cidata.img");
        }
    }

    @Test
    void theSameContentGivesTheSameBytesOnAnyNodeAndAnotherInstanceANewSeed() throws Exception {
        VmConfig a = vm("a", cloudInit("uid-1", null, "#cloud-config\n"));
        VmConfig b = vm("b", cloudInit("uid-1", null, "#cloud-config\n"));
        Files.createDirectories(a.stateDir());
        Files.createDirectories(b.stateDir());
        new CloudInitSeed().write(a);
        Thread.sleep(1100); // a second later: no time of writing may reach the image
        new CloudInitSeed().write(b);
        assertThat(Files.readAllBytes(b.cloudInitSeed())).isEqualTo(Files.readAllBytes(a.cloudInitSeed()));
        assertThat(files(a.cloudInitSeed())).as("no network-config unless given").contains("meta-data", "user-data").doesNotContain("network-config");

        VmConfig clone = vm("b", cloudInit("uid-2", null, "#cloud-config\n"));
        new CloudInitSeed().write(clone);
        assertThat(new ObjectMapper().readTree(read(clone.cloudInitSeed(), "meta-data")).get("instance-id").asText()).isEqualTo("uid-2");
    }

    @Test
    void aVmWithoutCloudInitLosesAStaleSeedAndAFailedReadLeavesNothing() throws Exception {
        VmConfig with = vm("c", cloudInit("uid", null, "#cloud-config\n"));
        Files.createDirectories(with.stateDir());
        new CloudInitSeed().write(with);
        assertThat(with.cloudInitSeed()).exists();
        new CloudInitSeed().write(vm("c", null));
        assertThat(with.cloudInitSeed()).doesNotExist();

        VmConfig failing = vm("c", new VmConfig.CloudInit("uid", "c", List.of(), null, () -> {
            throw new EngineException(EngineException.Reason.SecretUnavailable, "spec.cloudInit.userDataSecretRef: Secret default/x does not exist");
        }));
        assertThatThrownBy(() -> new CloudInitSeed().write(failing)).isInstanceOf(EngineException.class)
                .hasMessageContaining("spec.cloudInit.userDataSecretRef");
        try (var left = Files.list(failing.stateDir())) {
            assertThat(left).isEmpty();
        }
    }

    @Test
    void missingToolsAreNamedWithThePackagesToInstall() throws Exception {
        VmConfig config = vm("d", cloudInit("uid", null, "#cloud-config\n"));
        Files.createDirectories(config.stateDir());
        assertThatThrownBy(() -> new CloudInitSeed("/nonexistent/mkfs.vfat", "mcopy").write(config))
                .isInstanceOf(EngineException.class).hasMessageContaining("install Debian's dosfstools and mtools");
    }

    @Test
    void theRecordNeverPrintsTheUserData() {
        assertThat(cloudInit("uid", "secret-network", "#cloud-config\npassword: hunter2\n").toString())
                .doesNotContain("hunter2").doesNotContain("secret-network").contains("uid");
    }
}
