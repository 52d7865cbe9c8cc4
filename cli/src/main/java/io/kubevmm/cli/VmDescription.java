package io.kubevmm.cli;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** {@code describe vm}: the machine in a few lines, where it runs, and what its instance reports. */
final class VmDescription {
    private final DescribeWriter w;

    VmDescription(DescribeWriter w) {
        this.w = w;
    }

    void write(Map<String, Object> vm, Map<String, Object> vmi) {
        w.line(0, "Name", JsonPath.string(vm, ".metadata.name"))
                .line(0, "Namespace", JsonPath.string(vm, ".metadata.namespace"))
                .line(0, "Labels", labels(JsonPath.read(vm, ".metadata.labels")))
                .line(0, "Created", w.time(JsonPath.string(vm, ".metadata.creationTimestamp")));
        spec(vm);
        w.heading(0, "Status")
                .line(1, "Phase", JsonPath.string(vm, ".status.phase"))
                .line(1, "Node", JsonPath.string(vm, ".status.nodeName"))
                .line(1, "Generation", generation(vm))
                .optional(1, "Overlay address", overlayAddress(JsonPath.read(vm, ".status.network")));
        w.list(1, "Images", images(JsonPath.read(vm, ".status.images")));
        w.optional(1, "Guest OS", guestOs(JsonPath.read(vm, ".status.guest")))
                .optional(1, "Hostname", JsonPath.string(vm, ".status.guest.hostname"))
                .list(1, "Addresses", addresses(JsonPath.read(vm, ".status.guest.interfaces")));
        w.conditions(1, JsonPath.read(vm, ".status.conditions"));
        if (vmi == null) {
            w.line(0, "Instance", "<none> (spec.state " + SchemaDefaults.valueOrDefault(Kind.VM, vm, "spec.state")
                    + ": nothing runs on a node)");
        } else {
            instance(vmi);
        }
    }

    private void spec(Map<String, Object> vm) {
        Kind k = Kind.VM;
        w.heading(0, "Spec")
                .line(1, "State", SchemaDefaults.valueOrDefault(k, vm, "spec.state"))
                .line(1, "Suspend mode", SchemaDefaults.valueOrDefault(k, vm, "spec.suspendMode"))
                .line(1, "Profile", SchemaDefaults.valueOrDefault(k, vm, "spec.profile"))
                .line(1, "CPU", SchemaDefaults.valueOrDefault(k, vm, "spec.cpu"))
                .line(1, "Memory", SchemaDefaults.valueOrDefault(k, vm, "spec.memory"))
                .heading(1, "Boot")
                .optional(2, "Firmware", JsonPath.string(vm, ".spec.boot.firmware"))
                .line(2, "Kernel", JsonPath.string(vm, ".spec.boot.kernel.path"))
                .line(2, "Initrd", JsonPath.string(vm, ".spec.boot.initrd.path"))
                .line(2, "Cmdline", JsonPath.string(vm, ".spec.boot.cmdline"))
                .line(1, "Disks", disks(JsonPath.read(vm, ".spec.disks")))
                .line(1, "Network", network(vm))
                .line(1, "Ready when", readiness(JsonPath.string(vm, ".spec.readiness.serialPattern")))
                .line(1, "Restart policy", SchemaDefaults.valueOrDefault(k, vm, "spec.restartPolicy"))
                .line(1, "HA", highAvailability(vm))
                .line(1, "Node selector", labels(JsonPath.read(vm, ".spec.nodeSelector")));
    }

    private void instance(Map<String, Object> vmi) {
        String boot = JsonPath.string(vmi, ".status.bootMillis");
        w.heading(0, "Instance")
                .line(1, "Phase", JsonPath.string(vmi, ".status.phase"))
                .line(1, "Node", JsonPath.string(vmi, ".status.nodeName"))
                .optional(1, "Wanted state", JsonPath.string(vmi, ".spec.state"))
                .optional(1, "QEMU pid", JsonPath.string(vmi, ".status.qemuPid"))
                .optional(1, "Accelerator", JsonPath.string(vmi, ".status.accelerator"))
                .optional(1, "QEMU version", JsonPath.string(vmi, ".status.qemuVersion"))
                .optional(1, "Guest memory", JsonPath.string(vmi, ".status.guestMemory"))
                .list(1, "Workarounds", JsonPath.read(vmi, ".status.workarounds"))
                .optional(1, "Created", w.time(JsonPath.string(vmi, ".status.createdTime")))
                .optional(1, "Started", w.time(JsonPath.string(vmi, ".status.startedTime")))
                .optional(1, "Guest ready", w.time(JsonPath.string(vmi, ".status.guestReadyTime")))
                .optional(1, "Boot", boot == null ? null : boot + " ms (start to guest ready)")
                .optional(1, "Restarts", JsonPath.string(vmi, ".status.restartCount"))
                .optional(1, "Suspend state", JsonPath.string(vmi, ".status.suspendStateFile"))
                .optional(1, "Console log", JsonPath.string(vmi, ".status.consoleLog"))
                .conditions(1, JsonPath.read(vmi, ".status.conditions"));
    }

    /** spec.network.mode, with the VMNetwork an overlay VM joins: "overlay (VMNetwork default)". */
    private static String network(Map<String, Object> vm) {
        String mode = SchemaDefaults.valueOrDefault(Kind.VM, vm, "spec.network.mode");
        if (!"overlay".equals(mode)) {
            return mode;
        }
        String name = JsonPath.string(vm, ".spec.network.networkName");
        return mode + " (VMNetwork " + (name == null ? "default" : name) + ")";
    }

    /** The VM's overlay address as the operator allocated it: "10.200.0.2, MAC 02:5e:..., VMNetwork default". */
    static String overlayAddress(Object network) {
        String ip = network == null ? null : JsonPath.string(network, ".ipAddress");
        if (ip == null) {
            return null;
        }
        return ip + ", MAC " + JsonPath.string(network, ".macAddress") + ", VMNetwork " + JsonPath.string(network, ".networkName");
    }

    private static String generation(Map<String, Object> vm) {
        String observed = JsonPath.string(vm, ".status.observedGeneration");
        String current = JsonPath.string(vm, ".metadata.generation");
        if (current == null || observed == null) {
            return current == null ? observed : current + " (not yet seen by the operator)";
        }
        return observed.equals(current) ? current + " (seen by the operator)" : "observed " + observed + " of " + current;
    }

    private static String disks(Object disks) {
        if (!(disks instanceof List<?> list) || list.isEmpty()) {
            return null;
        }
        return list.stream().map(d -> {
            String name = JsonPath.string(d, ".name");
            String source = JsonPath.string(d, ".source.path");
            String url = JsonPath.string(d, ".source.http.url");
            String boot = JsonPath.string(d, ".bootOrder");
            String what = source != null ? name + " (overlay on " + source + ")"
                    : url != null ? name + " (overlay on " + url + ")"
                    : name + " (empty " + JsonPath.string(d, ".size") + ")";
            return boot == null ? what : what + " boot " + boot;
        }).collect(Collectors.joining(", "));
    }

    /** The OS as the guest agent reports it, with the kernel: "Debian GNU/Linux 12 (bookworm), kernel 6.1.0-27-cloud-amd64". */
    static String guestOs(Object guest) {
        String name = guest == null ? null : JsonPath.string(guest, ".osName");
        if (name == null) {
            return null;
        }
        String kernel = JsonPath.string(guest, ".kernelRelease");
        return kernel == null ? name : name + ", kernel " + kernel;
    }

    /** One line per guest interface with addresses: "ens3 (52:54:00:00:00:03): 10.0.2.15". */
    static List<String> addresses(Object interfaces) {
        if (!(interfaces instanceof List<?> list) || list.isEmpty()) {
            return null;
        }
        return list.stream().map(i -> {
            Object ips = JsonPath.read(i, ".ipAddresses");
            String mac = JsonPath.string(i, ".macAddress");
            return JsonPath.string(i, ".name") + (mac == null ? "" : " (" + mac + ")") + ": "
                    + (ips instanceof List<?> l && !l.isEmpty() ? l.stream().map(String::valueOf).collect(Collectors.joining(", ")) : "no address");
        }).toList();
    }

    /** One line per download: "root: Downloading 12 of 460 MiB", or the failure's reason and message. */
    static List<String> images(Object images) {
        if (!(images instanceof List<?> list) || list.isEmpty()) {
            return null;
        }
        return list.stream().map(i -> {
            String line = JsonPath.string(i, ".disk") + ": " + JsonPath.string(i, ".phase");
            String done = JsonPath.string(i, ".downloadedBytes");
            String total = JsonPath.string(i, ".totalBytes");
            if (done != null) {
                line += " " + mebibytes(done) + (total == null ? "" : " of " + mebibytes(total)) + " MiB";
            }
            String reason = JsonPath.string(i, ".reason");
            return reason == null ? line : line + " (" + reason + ": " + JsonPath.string(i, ".message") + ")";
        }).toList();
    }

    private static long mebibytes(String bytes) {
        return Long.parseLong(bytes) >> 20;
    }

    private static String readiness(String pattern) {
        return pattern == null ? "running (no readiness pattern)" : "console prints \"" + pattern + "\"";
    }

    static String highAvailability(Map<String, Object> vm) {
        String mode = SchemaDefaults.valueOrDefault(Kind.VM, vm, "spec.highAvailability.mode");
        String interval = JsonPath.string(vm, ".spec.highAvailability.checkpointIntervalSeconds");
        String diskLoss = JsonPath.string(vm, ".spec.highAvailability.restartWithLocalDiskLoss");
        return (interval == null ? mode : mode + ", checkpoint every " + interval + "s")
                + ("true".equals(diskLoss) ? ", restarts elsewhere with fresh disks" : "");
    }

    static String labels(Object labels) {
        if (!(labels instanceof Map<?, ?> map) || map.isEmpty()) {
            return null;
        }
        return map.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(","));
    }
}
