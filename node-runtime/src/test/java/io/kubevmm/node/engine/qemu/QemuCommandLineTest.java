package io.kubevmm.node.engine.qemu;

import io.kubevmm.node.engine.Accelerator;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.qmp.QemuVersion;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class QemuCommandLineTest {
    private static final QemuVersion QEMU_7_2 = new QemuVersion(7, 2, 22);
    private static final QemuVersion QEMU_9_0 = new QemuVersion(9, 0, 0);

    private static VmConfig vm(VmConfig.Profile profile, long memory, List<VmConfig.Disk> disks, VmConfig.NetworkMode net) {
        return new VmConfig("default_demo", Path.of("/state/vms/default_demo"), profile, 2, memory,
                Path.of("/images/vmlinuz"), Path.of("/images/initrd.img"), "console=ttyS0 quiet", disks, net,
                "52:54:00:12:34:56");
    }

    private static String joined(List<String> args) {
        return String.join(" ", args);
    }

    @Test
    void microvmUnderTcgGetsPaddedRamAndTscParameters() {
        var line = new QemuCommandLine("qemu-system-x86_64", Accelerator.TCG, QEMU_7_2);
        VmConfig config = vm(VmConfig.Profile.MICROVM, 256L << 20, List.of(), VmConfig.NetworkMode.NONE);

        List<String> args = line.forCreate(config);

        assertThat(args).containsSequence("-machine", "microvm,accel=tcg");
        assertThat(args).containsSequence("-m", "262152K");
        assertThat(args).containsSequence("-append", "console=ttyS0 quiet tsc=reliable tsc_early_khz=2000000");
        assertThat(line.workarounds(config)).hasSize(2)
                .anySatisfy(w -> assertThat(w).contains("262152Ki").contains("TCG"));
    }

    @Test
    void kvmGuestsGetExactRamHostCpuAndNoWorkarounds() {
        var line = new QemuCommandLine("qemu-system-x86_64", Accelerator.KVM, QEMU_7_2);
        VmConfig config = vm(VmConfig.Profile.MICROVM, 256L << 20, List.of(), VmConfig.NetworkMode.NONE);

        List<String> args = line.forCreate(config);

        assertThat(args).containsSequence("-m", "262144K").containsSequence("-cpu", "host");
        assertThat(args).containsSequence("-append", "console=ttyS0 quiet");
        assertThat(line.workarounds(config)).isEmpty();
    }

    @Test
    void onQemu10UnderTcgGuestRamIsExactlyTheSpecAndAStandardGuestNeedsNoWorkaround() {
        var line = new QemuCommandLine("qemu-system-x86_64", Accelerator.TCG, QemuFeaturesTest.recorded("10.0.2"), null);
        VmConfig standard = vm(VmConfig.Profile.STANDARD, 256L << 20, List.of(), VmConfig.NetworkMode.NONE);

        assertThat(line.forCreate(standard)).containsSequence("-m", "262144K");
        assertThat(line.effectiveMemoryBytes(256L << 20)).isEqualTo(256L << 20);
        assertThat(line.workarounds(standard)).isEmpty();
    }

    @Test
    void onQemu72UnderTcgTheSameGuestGetsPaddedRamAndSaysWhy() {
        var line = new QemuCommandLine("qemu-system-x86_64", Accelerator.TCG, QemuFeaturesTest.recorded("7.2.22"), null);
        VmConfig standard = vm(VmConfig.Profile.STANDARD, 256L << 20, List.of(), VmConfig.NetworkMode.NONE);

        assertThat(line.forCreate(standard)).containsSequence("-m", "262152K");
        assertThat(line.workarounds(standard)).singleElement().asString().contains("QEMU 7.2.22", "fixed in 9.0");
    }

    @Test
    void microvmUnderTcgKeepsItsClockParametersOnQemu10Too() {
        var line = new QemuCommandLine("qemu-system-x86_64", Accelerator.TCG, QemuFeaturesTest.recorded("10.0.2"), null);
        VmConfig micro = vm(VmConfig.Profile.MICROVM, 256L << 20, List.of(), VmConfig.NetworkMode.NONE);

        assertThat(line.forCreate(micro)).containsSequence("-append", "console=ttyS0 quiet tsc=reliable tsc_early_khz=2000000");
        assertThat(line.workarounds(micro)).singleElement().asString().contains("TSC");
    }

    @Test
    void stateSavedByQemu72LoadsOnQemu10IntoTheMachineThatWroteIt() {
        var line = new QemuCommandLine("qemu-system-x86_64", Accelerator.TCG, QemuFeaturesTest.recorded("10.0.2"), null);
        VmConfig standard = vm(VmConfig.Profile.STANDARD, 256L << 20, List.of(), VmConfig.NetworkMode.NONE);
        VmConfig micro = vm(VmConfig.Profile.MICROVM, 256L << 20, List.of(), VmConfig.NetworkMode.NONE);
        var q35From72 = new QemuCommandLine.Launch(java.util.Map.of(), null)
                .loading(new SavedMachine("pc-q35-7.2", 262152L * 1024, 256 * 1024));
        var microFrom72 = new QemuCommandLine.Launch(java.util.Map.of(), null)
                .loading(new SavedMachine("microvm", 262152L * 1024, SavedMachine.QBOOT_BYTES));

        assertThat(line.forIncoming(standard, false, q35From72)).containsSequence("-machine", "pc-q35-7.2,accel=tcg")
                .containsSequence("-m", "262152K").doesNotContain("-bios");
        assertThat(line.forIncoming(micro, false, microFrom72)).containsSequence("-machine", "microvm,accel=tcg")
                .containsSequence("-m", "262152K").containsSequence("-bios", "qboot.rom");
        assertThat(line.forCreate(standard)).containsSequence("-machine", "q35,accel=tcg").containsSequence("-m", "262144K");
    }

    @Test
    void ramPaddingIsDroppedFromQemu9OnAndWhenRamIsAlreadyOdd() {
        assertThat(new QemuCommandLine("q", Accelerator.TCG, QEMU_9_0).effectiveMemoryBytes(256L << 20)).isEqualTo(256L << 20);
        long odd = (256L << 20) + 4096;
        assertThat(new QemuCommandLine("q", Accelerator.TCG, QEMU_7_2).effectiveMemoryBytes(odd)).isEqualTo(odd);
    }

    @Test
    void everyGuestStartsHaltedWithQmpSerialLogPidfileAndPanicDevice() {
        var line = new QemuCommandLine("qemu-system-x86_64", Accelerator.TCG, QEMU_7_2);
        String args = joined(line.forCreate(vm(VmConfig.Profile.MICROVM, 128L << 20, List.of(), VmConfig.NetworkMode.NONE)));

        assertThat(args).contains(" -S ", "-nodefaults", "-no-shutdown",
                "-qmp unix:/state/vms/default_demo/qmp.sock,server=on,wait=off",
                "-pidfile /state/vms/default_demo/qemu.pid",
                "file,id=serial0,append=on,path=/state/vms/default_demo/console.log",
                "-device pvpanic", "-kernel /images/vmlinuz", "-initrd /images/initrd.img");
        assertThat(args).doesNotContain("-incoming");
    }

    @Test
    void disksAndNicUseVirtioMmioOnMicrovmAndPciOnStandard() {
        var disks = List.of(new VmConfig.Disk("data", 1L << 30, null));
        var line = new QemuCommandLine("qemu-system-x86_64", Accelerator.TCG, QEMU_7_2);

        String micro = joined(line.forCreate(vm(VmConfig.Profile.MICROVM, 128L << 20, disks, VmConfig.NetworkMode.USER)));
        String standard = joined(line.forCreate(vm(VmConfig.Profile.STANDARD, 128L << 20, disks, VmConfig.NetworkMode.USER)));

        assertThat(micro).contains("virtio-blk-device,drive=disk-data,id=data",
                "filename=/state/vms/default_demo/disk-data.qcow2", "virtio-net-device,netdev=net0,mac=52:54:00:12:34:56");
        assertThat(standard).contains("q35,accel=tcg", "virtio-blk-pci,drive=disk-data", "virtio-net-pci,netdev=net0");
        assertThat(standard).doesNotContain("tsc_early_khz");
    }

    @Test
    void restoringGuestWaitsForIncomingStateAndCont() {
        var line = new QemuCommandLine("qemu-system-x86_64", Accelerator.TCG, QEMU_7_2);
        assertThat(line.forIncoming(vm(VmConfig.Profile.MICROVM, 128L << 20, List.of(), VmConfig.NetworkMode.NONE), false))
                .containsSequence("-incoming", "defer").contains("-S");
    }

    @Test
    void migrationTargetRunsAsSoonAsTheStateIsIn() {
        var line = new QemuCommandLine("qemu-system-x86_64", Accelerator.TCG, QEMU_7_2);
        assertThat(line.forIncoming(vm(VmConfig.Profile.MICROVM, 128L << 20, List.of(), VmConfig.NetworkMode.NONE), true))
                .containsSequence("-incoming", "defer").doesNotContain("-S");
    }

    @Test
    void aDiskOpensItsActiveLayerAfterSnapshotsAndACloneGetsItsOwnGenerationId() {
        var disks = List.of(new VmConfig.Disk("data", 1L << 30, null));
        var line = new QemuCommandLine("qemu-system-x86_64", Accelerator.TCG, QEMU_7_2);
        VmConfig vm = vm(VmConfig.Profile.MICROVM, 128L << 20, disks, VmConfig.NetworkMode.USER);
        VmConfig clone = new VmConfig("default_clone", vm.stateDir(), vm.profile(), vm.cpus(), vm.memoryBytes(), vm.kernel(),
                vm.initrd(), vm.cmdline(), vm.disks(), vm.network(), "52:54:00:65:43:21");
        var launch = new QemuCommandLine.Launch(java.util.Map.of("data", java.nio.file.Path.of("/state/vms/default_demo/disk-data.3.qcow2")),
                QemuCommandLine.vmGenerationId(vm));

        String args = joined(line.forCreate(vm, launch));

        assertThat(args).contains("filename=/state/vms/default_demo/disk-data.3.qcow2", "-device vmgenid,guid=" + QemuCommandLine.vmGenerationId(vm));
        assertThat(QemuCommandLine.vmGenerationId(vm)).as("stable across restarts and migration").isEqualTo(QemuCommandLine.vmGenerationId(vm))
                .isNotEqualTo(QemuCommandLine.vmGenerationId(clone));
    }

    @Test
    void everyGuestRunsUnderTheSeccompSandboxThatStillLetsSaveAndRestoreSpawnCat() {
        var line = new QemuCommandLine("qemu-system-x86_64", Accelerator.TCG, QEMU_7_2);
        VmConfig vm = vm(VmConfig.Profile.MICROVM, 128L << 20, List.of(), VmConfig.NetworkMode.NONE);
        for (List<String> args : List.of(line.forCreate(vm), line.forIncoming(vm, true), line.forIncoming(vm, false))) {
            assertThat(args).containsSequence("-sandbox", "on,obsolete=deny,elevateprivileges=deny,resourcecontrol=deny")
                    .doesNotContain("-runas", "-run-with");
            assertThat(joined(args)).doesNotContain("spawn=deny");
        }
    }

    @Test
    void aConfiguredUserIsDroppedToWithTheOptionOfTheRunningQemuVersion() {
        VmConfig vm = vm(VmConfig.Profile.MICROVM, 128L << 20, List.of(), VmConfig.NetworkMode.NONE);
        List<String> old = new QemuCommandLine("q", Accelerator.TCG, QEMU_7_2, "kubevmm-qemu").forCreate(vm);
        assertThat(old).containsSequence("-runas", "kubevmm-qemu")
                .containsSequence("-sandbox", "on,obsolete=deny,resourcecontrol=deny");
        List<String> current = new QemuCommandLine("q", Accelerator.TCG, new QemuVersion(10, 0, 2), "kubevmm-qemu").forCreate(vm);
        assertThat(current).containsSequence("-run-with", "user=kubevmm-qemu").doesNotContain("-runas");
    }

    @Test
    void userValuesCannotAddOptionsOfTheirOwn() {
        var line = new QemuCommandLine("qemu-system-x86_64", Accelerator.TCG, QEMU_7_2);
        VmConfig config = new VmConfig("default_a,b", Path.of("/state/vms/default_a,b"), VmConfig.Profile.MICROVM, 1, 256L << 20,
                Path.of("/images/vmlinuz"), null, "console=ttyS0", List.of(new VmConfig.Disk("data", 1L << 20, null)),
                VmConfig.NetworkMode.NONE, "52:54:00:12:34:56");
        String args = joined(line.forCreate(config));
        // QEMU reads ",," as a literal comma inside a value.
        assertThat(args).contains("guest=default_a,,b,debug-threads=on")
                .contains("path=/state/vms/default_a,,b/console.log")
                .contains("filename=/state/vms/default_a,,b/");
        for (String bad : List.of("a,b", "a=b", "a b", "1data")) {
            VmConfig withBadDisk = new VmConfig("default_demo", Path.of("/state/vms/default_demo"), VmConfig.Profile.MICROVM, 1,
                    256L << 20, Path.of("/images/vmlinuz"), null, "console=ttyS0", List.of(new VmConfig.Disk(bad, 1L << 20, null)),
                    VmConfig.NetworkMode.NONE, "52:54:00:12:34:56");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> line.forCreate(withBadDisk))
                    .hasMessageContaining("disk name \"" + bad + "\" cannot be a QEMU id");
        }
    }

    private static VmConfig firmwareVm(VmConfig.Firmware firmware, List<VmConfig.Disk> disks) {
        return new VmConfig("default_debian", Path.of("/state/vms/default_debian"), VmConfig.Profile.STANDARD, 2, 1L << 30,
                null, null, null, disks, VmConfig.NetworkMode.NONE, "52:54:00:12:34:56", firmware);
    }

    @Test
    void uefiBootsTheDiskThroughOvmfWithTheVmsOwnVariablesAndNoKernel() {
        var line = new QemuCommandLine("qemu-system-x86_64", Accelerator.TCG, QemuFeaturesTest.recorded("10.0.2"), null);
        VmConfig config = firmwareVm(new VmConfig.Firmware(VmConfig.Firmware.Kind.UEFI, Path.of("/usr/share/OVMF/OVMF_CODE_4M.fd"),
                Path.of("/usr/share/OVMF/OVMF_VARS_4M.fd")), List.of(new VmConfig.Disk("root", 0, Path.of("/cache/abc"), 1),
                new VmConfig.Disk("data", 1L << 30, null)));

        List<String> args = line.forCreate(config);

        assertThat(args).containsSequence("-machine", "q35,accel=tcg,pflash0=uefi-code,pflash1=uefi-vars");
        assertThat(args).containsSequence("-blockdev", "driver=file,node-name=uefi-code-file,read-only=on,filename=/usr/share/OVMF/OVMF_CODE_4M.fd");
        assertThat(args).containsSequence("-blockdev", "driver=file,node-name=uefi-vars-file,filename=/state/vms/default_debian/uefi-vars.fd");
        assertThat(args).doesNotContain("-kernel", "-initrd", "-append");
        assertThat(args).contains("virtio-blk-pci,drive=disk-root,id=root,bootindex=1", "virtio-blk-pci,drive=disk-data,id=data");
    }

    @Test
    void biosBootUsesQemusOwnSeaBiosAndTheBootOrder() {
        var line = new QemuCommandLine("qemu-system-x86_64", Accelerator.TCG, QemuFeaturesTest.recorded("10.0.2"), null);
        VmConfig config = firmwareVm(new VmConfig.Firmware(VmConfig.Firmware.Kind.BIOS, null, null),
                List.of(new VmConfig.Disk("root", 0, Path.of("/cache/abc"), 2)));

        List<String> args = line.forCreate(config);

        assertThat(args).containsSequence("-machine", "q35,accel=tcg");
        assertThat(joined(args)).doesNotContain("pflash", "-kernel", "-bios");
        assertThat(args).contains("virtio-blk-pci,drive=disk-root,id=root,bootindex=2");
    }

    @Test
    void aBootOrderWithoutFirmwareIsNotPassedOn() {
        var line = new QemuCommandLine("qemu-system-x86_64", Accelerator.TCG, QemuFeaturesTest.recorded("10.0.2"), null);
        VmConfig config = vm(VmConfig.Profile.STANDARD, 256L << 20, List.of(new VmConfig.Disk("root", 0, Path.of("/images/b"), 1)),
                VmConfig.NetworkMode.NONE);
        assertThat(line.forCreate(config)).contains("virtio-blk-pci,drive=disk-root,id=root").containsSequence("-kernel", "/images/vmlinuz");
    }

    @Test
    void aGuestRestoredFromA72StateOn10HasThatMachinesRamAndSaysSo() throws Exception {
        var line = new QemuCommandLine("qemu-system-x86_64", Accelerator.TCG, QemuFeaturesTest.recorded("10.0.2"), null);
        VmConfig standard = vm(VmConfig.Profile.STANDARD, 256L << 20, List.of(), VmConfig.NetworkMode.NONE);
        byte[] head;
        try (var in = getClass().getResourceAsStream("/saved-state/qemu-7.2.22-q35-262152K.head")) {
            head = in.readAllBytes();
        }
        SavedMachine saved = SavedMachine.parse(head).orElseThrow();

        assertThat(line.effectiveMemoryBytes(standard, saved)).isEqualTo(262152L * 1024);
        assertThat(line.workarounds(standard, saved)).hasSize(2)
                .anySatisfy(w -> assertThat(w).contains("262152Ki instead of the spec's 262144Ki").contains("pc-q35-7.2"))
                .anySatisfy(w -> assertThat(w).startsWith("machine pc-q35-7.2 instead of pc-q35-10.0"));
        assertThat(line.effectiveMemoryBytes(standard, null)).as("booted from the spec").isEqualTo(256L << 20);
        assertThat(line.workarounds(standard, null)).isEmpty();
        assertThat(line.workarounds(standard, new SavedMachine("pc-q35-10.0", 256L << 20, 256 * 1024)))
                .as("saved by this release: nothing differs").isEmpty();
    }

    @Test
    void aCloudInitSeedIsAReadOnlyDiskAfterTheVmsOwn() {
        var line = new QemuCommandLine("qemu-system-x86_64", Accelerator.TCG, QemuFeaturesTest.recorded("10.0.2"), null);
        VmConfig base = vm(VmConfig.Profile.STANDARD, 256L << 20, List.of(new VmConfig.Disk("root", 1L << 30, null)), VmConfig.NetworkMode.USER);
        VmConfig config = new VmConfig(base.id(), base.stateDir(), base.profile(), base.cpus(), base.memoryBytes(), base.kernel(),
                base.initrd(), base.cmdline(), base.disks(), base.network(), base.macAddress(), null,
                new VmConfig.CloudInit("uid", "demo", List.of(), null, () -> new byte[0]));

        String args = joined(line.forCreate(config));

        assertThat(args).contains("-blockdev driver=file,node-name=seed_cidata-file,read-only=on,filename=/state/vms/default_demo/cidata.img"
                + " -blockdev driver=raw,node-name=seed_cidata,read-only=on,file=seed_cidata-file -device virtio-blk-pci,drive=seed_cidata,id=seed_cidata");
        assertThat(args.indexOf("id=seed_cidata")).as("after the VM's own disks").isGreaterThan(args.indexOf("id=root"));
        assertThat(joined(line.forCreate(base))).doesNotContain("cidata");
    }

    @Test
    void aStandardGuestGetsTheGuestAgentPortOnASocketInItsStateDirLastOnTheLine() {
        var line = new QemuCommandLine("qemu-system-x86_64", Accelerator.TCG, QemuFeaturesTest.recorded("10.0.2"), null);
        var disks = List.of(new VmConfig.Disk("data", 1L << 30, null));
        List<String> args = line.forCreate(vm(VmConfig.Profile.STANDARD, 256L << 20, disks, VmConfig.NetworkMode.USER));

        assertThat(args).containsSequence("-chardev", "socket,id=qga0,path=/state/vms/default_demo/qga.sock,server=on,wait=off",
                "-device", "virtio-serial-pci,id=agent-serial",
                "-device", "virtserialport,bus=agent-serial.0,chardev=qga0,id=qga-port,name=org.qemu.guest_agent.0");
        // After the disks and the NIC: their PCI slots are the ones states saved before the channel existed have.
        assertThat(args.indexOf("virtio-serial-pci,id=agent-serial")).isGreaterThan(args.indexOf("virtio-net-pci,netdev=net0,mac=52:54:00:12:34:56"));
        assertThat(joined(line.forIncoming(vm(VmConfig.Profile.STANDARD, 256L << 20, disks, VmConfig.NetworkMode.USER), false)))
                .as("a restored guest has the same devices").contains("org.qemu.guest_agent.0");
    }

    @Test
    void aMicrovmGuestHasNoGuestAgentChannel() {
        var line = new QemuCommandLine("qemu-system-x86_64", Accelerator.TCG, QemuFeaturesTest.recorded("10.0.2"), null);
        String args = joined(line.forCreate(vm(VmConfig.Profile.MICROVM, 256L << 20, List.of(), VmConfig.NetworkMode.USER)));

        assertThat(args).doesNotContain("virtio-serial", "qga.sock");
    }

    @Test
    void overlayGuestsGetTheirTapAndTheOverlayMacOnBothProfiles() {
        var line = new QemuCommandLine("qemu-system-x86_64", Accelerator.TCG, QEMU_7_2);
        VmConfig.Overlay overlay = new VmConfig.Overlay("default", 100, "10.200.0.0/16", "10.200.0.7", "52:54:00:aa:bb:cc");
        VmConfig micro = vm(VmConfig.Profile.MICROVM, 256L << 20, List.of(), VmConfig.NetworkMode.NONE).onOverlay(overlay);
        VmConfig standard = vm(VmConfig.Profile.STANDARD, 256L << 20, List.of(), VmConfig.NetworkMode.NONE).onOverlay(overlay);

        assertThat(micro.tapDevice()).matches("kvtap[0-9a-f]{10}").hasSizeLessThanOrEqualTo(15).isEqualTo(standard.tapDevice());
        assertThat(joined(line.forCreate(micro))).contains(
                "-netdev tap,id=net0,ifname=" + micro.tapDevice() + ",script=no,downscript=no",
                "-device virtio-net-device,netdev=net0,mac=52:54:00:aa:bb:cc").doesNotContain("user,id=net0");
        assertThat(joined(line.forIncoming(standard, true))).contains(
                "-netdev tap,id=net0,ifname=" + standard.tapDevice() + ",script=no,downscript=no",
                "-device virtio-net-pci,netdev=net0,mac=52:54:00:aa:bb:cc");
        assertThat(vm(VmConfig.Profile.MICROVM, 256L << 20, List.of(), VmConfig.NetworkMode.NONE).tapDevice())
                .as("a hash of the VM id: the same VM, the same tap").isEqualTo(micro.tapDevice());
    }
}
