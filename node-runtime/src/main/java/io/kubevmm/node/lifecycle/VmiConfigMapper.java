package io.kubevmm.node.lifecycle;

import io.kubevmm.api.v1alpha1.BootSpec;
import io.kubevmm.api.v1alpha1.DiskSpec;
import io.kubevmm.api.v1alpha1.FileRef;
import io.kubevmm.api.v1alpha1.Firmware;
import io.kubevmm.api.v1alpha1.HttpSource;
import io.kubevmm.api.v1alpha1.NetworkMode;
import io.kubevmm.api.v1alpha1.OverlayAttachment;
import io.kubevmm.node.network.InterfaceNames;
import io.kubevmm.node.network.Ipv4Cidr;
import io.kubevmm.node.network.NetworkException;
import io.kubevmm.node.network.Segment;
import io.kubevmm.api.v1alpha1.Profile;
import io.kubevmm.api.v1alpha1.SpecDefaults;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceSpec;
import io.kubevmm.api.validation.Quantities;
import io.kubevmm.node.config.NodeConfig;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.files.Sha256;
import io.kubevmm.node.images.ImageState;
import io.kubevmm.node.images.ImagesNotReady;
import io.kubevmm.node.images.NodeImages;
import io.kubevmm.node.lifecycle.NodeVms;
import jakarta.enterprise.context.ApplicationScoped;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Resolves a VMI's spec into the engine's {@link VmConfig}: files in the image dir, bytes, a stable MAC. */
@ApplicationScoped
public class VmiConfigMapper {
    private final ImagePaths images;
    private final NodeVms vms;
    private final NodeImages downloads;
    private final CloudInitSources cloudInit;
    private final Path uefiCode;
    private final Path uefiVarsTemplate;

    VmiConfigMapper(NodeConfig config, NodeVms vms, NodeImages downloads, CloudInitSources cloudInit) {
        this.cloudInit = cloudInit;
        this.images = new ImagePaths(config.imageDir(), config.stateDir());
        this.uefiCode = config.qemu().uefiCode();
        this.uefiVarsTemplate = config.qemu().uefiVarsTemplate();
        this.vms = vms;
        this.downloads = downloads;
    }

    /**
     * The engine config of {@code vmi}, every spec path resolved and confined to the image dir.
     * @throws ImagePaths.Refused naming the field of a path this node will not open
     * @throws ImagesNotReady when a downloaded base image is not in the node's cache yet (its download is started)
     */
    public VmConfig toConfig(VirtualMachineInstance vmi) {
        VirtualMachineInstanceSpec spec = vmi.getSpec();
        String namespace = vmi.getMetadata().getNamespace();
        String name = vmi.getMetadata().getName();
        BootSpec boot = spec.getBoot() == null ? new BootSpec() : spec.getBoot();
        List<VmConfig.Disk> disks = new ArrayList<>();
        List<ImagesNotReady.DiskImage> waiting = new ArrayList<>();
        if (spec.getDisks() != null) {
            for (int i = 0; i < spec.getDisks().size(); i++) {
                DiskSpec disk = spec.getDisks().get(i);
                disks.add(new VmConfig.Disk(disk.getName(),
                        disk.getSize() == null ? 0 : Quantities.toBytes(disk.getSize()),
                        disk.getSource() == null ? null : base("spec.disks[" + i + "].source", disk, waiting),
                        disk.getBootOrder()));
            }
        }
        if (!waiting.isEmpty()) {
            throw new ImagesNotReady(waiting);
        }
        VmConfig.Overlay overlay = spec.getNetwork() != null && spec.getNetwork().getMode() == NetworkMode.overlay
                ? overlay(vmi) : null;
        VmConfig config = new VmConfig(
                NodeVms.id(namespace, name),
                vms.stateDir(namespace, name),
                SpecDefaults.profile(spec) == Profile.standard ? VmConfig.Profile.STANDARD : VmConfig.Profile.MICROVM,
                SpecDefaults.cpu(spec),
                SpecDefaults.memoryBytes(spec),
                boot.getFirmware() != null ? null : resolve("spec.boot.kernel.path", boot.getKernel()),
                boot.getFirmware() != null || boot.getInitrd() == null ? null : resolve("spec.boot.initrd.path", boot.getInitrd()),
                boot.getCmdline(),
                disks,
                spec.getNetwork() != null && spec.getNetwork().getMode() == NetworkMode.user
                        ? VmConfig.NetworkMode.USER : VmConfig.NetworkMode.NONE,
                macAddress(vmi.getMetadata().getUid() == null ? namespace + "/" + name : vmi.getMetadata().getUid()),
                firmware(boot.getFirmware()),
                cloudInit.of(vmi, ownerUid(vmi)));
        return overlay == null ? config : config.onOverlay(overlay);
    }

    /**
     * The VM's place on its overlay network, as the operator allocated it in {@code spec.overlay};
     * checked here, before anything is created for it: the values become device settings and DHCP leases.
     */
    static VmConfig.Overlay overlay(VirtualMachineInstance vmi) {
        OverlayAttachment a = vmi.getSpec().getOverlay();
        String network = vmi.getSpec().getNetwork().getNetworkName() == null ? "default" : vmi.getSpec().getNetwork().getNetworkName();
        if (a == null) {
            throw new ImagePaths.Refused("spec.overlay", "OverlayNotAllocated", "is missing: the operator has not allocated this VM's"
                    + " address on network " + network + " yet (network.mode overlay); the VM starts once it has");
        }
        if (a.getVni() == null || a.getCidr() == null || a.getIpAddress() == null || a.getMacAddress() == null) {
            throw new ImagePaths.Refused("spec.overlay", "InvalidSpec", "needs vni, cidr, ipAddress and macAddress (written by the operator)");
        }
        try {
            Segment segment = new Segment(a.getVni(), Ipv4Cidr.parse("cidr", a.getCidr()));
            int ip = Ipv4Cidr.address("ipAddress", a.getIpAddress());
            if (!segment.cidr().isGuestAddress(ip)) {
                throw new NetworkException("ipAddress " + a.getIpAddress() + " is not a guest address of " + segment.cidr());
            }
            InterfaceNames.unicastMac("macAddress", a.getMacAddress());
            return new VmConfig.Overlay(a.getNetworkName() == null ? network : a.getNetworkName(), a.getVni(),
                    segment.cidr().toString(), Ipv4Cidr.format(ip), a.getMacAddress());
        } catch (NetworkException e) {
            throw new ImagePaths.Refused("spec.overlay", "InvalidSpec", e.getMessage());
        }
    }

    /** Why the cloud-init user-data Secret {@code vmi} names cannot be read now, or empty. */
    public java.util.Optional<String> cloudInitProblem(VirtualMachineInstance vmi) {
        return cloudInit.problem(vmi);
    }

    /** The uid of the VirtualMachine that owns {@code vmi}, or null when none does. */
    public static String ownerUid(VirtualMachineInstance vmi) {
        var owners = vmi.getMetadata().getOwnerReferences();
        return owners == null ? null : owners.stream().filter(o -> "VirtualMachine".equals(o.getKind()))
                .map(o -> o.getUid()).findFirst().orElse(null);
    }

    /**
     * A path source resolves in the image directory (confined there); an http source is the
     * image cache's verified file, named by its checksum alone, never by anything else the user wrote.
     */
    private Path base(String field, DiskSpec disk, List<ImagesNotReady.DiskImage> waiting) {
        HttpSource http = disk.getSource().getHttp();
        if (http == null) {
            return images.resolve(field + ".path", disk.getSource().getPath());
        }
        ImageState state = downloads.ensure(http);
        if (state instanceof ImageState.Ready ready) {
            return ready.file();
        }
        waiting.add(new ImagesNotReady.DiskImage(disk.getName(), field + ".http", http.getSha256(), NodeImages.host(http), state));
        return null;
    }

    /** The node's firmware files (administrator settings, never spec paths) for {@code kind}. */
    private VmConfig.Firmware firmware(Firmware kind) {
        return switch (kind) {
            case null -> null;
            case bios -> new VmConfig.Firmware(VmConfig.Firmware.Kind.BIOS, null, null);
            case uefi -> new VmConfig.Firmware(VmConfig.Firmware.Kind.UEFI, uefiCode, uefiVarsTemplate);
        };
    }

    private Path resolve(String field, FileRef ref) {
        return images.resolve(field, ref == null || ref.getPath() == null ? "vmlinuz" : ref.getPath());
    }

    /** A locally administered unicast MAC in QEMU's 52:54:00 range, stable for the VM's identity. */
    static String macAddress(String identity) {
        byte[] h = Sha256.of(identity.getBytes(StandardCharsets.UTF_8));
        return String.format("52:54:00:%02x:%02x:%02x", h[0], h[1], h[2]);
    }
}
