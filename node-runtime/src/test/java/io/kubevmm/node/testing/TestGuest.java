package io.kubevmm.node.testing;

import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.engine.qemu.QemuEngine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The test guest built by guest/build.sh, and VM configs that boot it. */
public final class TestGuest {
    private static QemuEngine engine;

    private TestGuest() { }

    public static Path repoRoot() {
        String configured = System.getProperty("kubevmm.repo.root");
        Path dir = configured != null ? Path.of(configured) : Path.of("").toAbsolutePath();
        for (Path p = dir.toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("guest")) && Files.exists(p.resolve("pom.xml"))) {
                return p;
            }
        }
        return dir;
    }

    /** guest/out, which must hold vmlinuz and initrd.img. */
    public static Path imageDir() {
        Path out = repoRoot().resolve("guest/out");
        assertThat(out.resolve("vmlinuz")).as("the test guest; build it with: bash guest/build.sh").exists();
        assertThat(out.resolve("initrd.img")).as("the test guest; build it with: bash guest/build.sh").exists();
        return out;
    }

    /** One engine for all tests in a JVM; {@code KUBEVMM_TEST_ACCELERATOR=tcg} forces TCG on a KVM host. */
    public static synchronized QemuEngine engine() {
        if (engine == null) {
            String choice = System.getenv().getOrDefault("KUBEVMM_TEST_ACCELERATOR", "auto").toUpperCase();
            engine = new QemuEngine("qemu-system-x86_64", "qemu-img", QemuEngine.AcceleratorChoice.valueOf(choice));
        }
        return engine;
    }

    public static VmConfig microvm(Path stateDir, String name, String workload) {
        return config(stateDir, name, workload, VmConfig.Profile.MICROVM, List.of());
    }

    public static VmConfig config(Path stateDir, String name, String workload, VmConfig.Profile profile, List<VmConfig.Disk> disks) {
        Path images = imageDir();
        return new VmConfig("test_" + name, stateDir.resolve(name), profile, 1, 128L << 20,
                images.resolve("vmlinuz"), images.resolve("initrd.img"),
                "console=ttyS0 quiet kubevmm.workload=" + workload, disks, VmConfig.NetworkMode.NONE, "52:54:00:00:00:01");
    }

    /** A diskless q35 machine booting OVMF (Debian's ovmf package): it finds nothing to boot and waits in the firmware. */
    public static VmConfig uefiMachine(Path stateDir, String name) {
        return new VmConfig("test_" + name, stateDir.resolve(name), VmConfig.Profile.STANDARD, 1, 256L << 20, null, null, "",
                List.of(), VmConfig.NetworkMode.NONE, "52:54:00:00:00:02", new VmConfig.Firmware(VmConfig.Firmware.Kind.UEFI,
                Path.of("/usr/share/OVMF/OVMF_CODE_4M.fd"), Path.of("/usr/share/OVMF/OVMF_VARS_4M.fd")));
    }
}
