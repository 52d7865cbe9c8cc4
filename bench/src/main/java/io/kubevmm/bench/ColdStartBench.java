package io.kubevmm.bench;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.v1alpha1.Labels;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.e2e.LocalCluster;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.engine.qemu.QemuEngine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Cold start through the whole control plane (apply VirtualMachine → operator schedules →
 * VMI → node runtime boots QEMU → Ready) against raw QEMU booting the same guest, interleaved;
 * then density: 10 VMs applied at once on one node, time until all are Ready, and memory.
 */
public final class ColdStartBench {
    private static final String MARKER = "KUBEVMM-GUEST-READY";
    private static final long MEMORY_MIB = 128;

    public static void main(String[] args) throws Exception {
        int[] densityOption = {10};
        ClusterBenchOptions options = ClusterBenchOptions.parse(args, 10, Map.of("--density", n -> densityOption[0] = n));
        int runs = options.runs();
        int density = densityOption[0];
        Path repo = options.repo();
        Path images = repo.resolve("guest/out");
        QemuEngine engine = new QemuEngine("qemu-system-x86_64", "qemu-img", QemuEngine.AcceleratorChoice.AUTO);
        Path work = Files.createTempDirectory("kubevmm-bench-cold");
        LocalCluster cluster = new LocalCluster(repo, repo.resolve("bench/target/cold-start-cluster"), System.err);
        cluster.down(true); // an empty cluster: no VM of an earlier run starts beside the measured ones
        cluster.up(1, "8Gi");
        List<Long> raw = new ArrayList<>();
        List<Long> controlPlane = new ArrayList<>();
        try (KubernetesClient client = cluster.client()) {
            BootBench.rawBoot(engine, BootBench.config(work, "warm", VmConfig.Profile.MICROVM, MEMORY_MIB, images));
            applyAndAwaitReady(client, List.of("warm"));
            deleteAll(client, List.of("warm"));
            for (int i = 0; i < runs; i++) {
                raw.add(BootBench.rawBoot(engine, BootBench.config(work, "raw-" + i, VmConfig.Profile.MICROVM, MEMORY_MIB, images)));
                controlPlane.add(applyAndAwaitReady(client, List.of("cold-" + i)));
                deleteAll(client, List.of("cold-" + i));
                System.err.printf("run %d/%d: raw %d ms, apply -> Ready %d ms%n", i + 1, runs, raw.getLast(), controlPlane.getLast());
            }

            List<String> names = new ArrayList<>();
            for (int i = 0; i < density; i++) {
                names.add("dense-" + i);
            }
            long allReady = applyAndAwaitReady(client, names);
            long nodeRss = rss(Processes.pid(cluster.home().pidFile(LocalCluster.nodeName(0))));
            List<Long> qemuRss = names.stream()
                    .map(n -> client.resources(VirtualMachineInstance.class).inNamespace("default").withName(n).get())
                    .map(v -> rss(v.getStatus().getQemuPid())).toList();
            deleteAll(client, names);

            long rawP50 = BootBench.p50(raw);
            long cpP50 = BootBench.p50(controlPlane);
            double ratio = (double) cpP50 / rawP50;
            long qemuP50 = BootBench.p50(qemuRss);
            System.out.printf("%ncold start to %s, microvm, %d MiB, %s, %d runs each%n", MARKER, MEMORY_MIB,
                    engine.accelerator().apiName(), runs);
            System.out.printf("%-40s %8s %8s %8s%n", "", "p50 ms", "min ms", "max ms");
            System.out.printf("%-40s %8d %8d %8d%n", "raw QEMU boot (baseline)", rawP50, BootBench.min(raw), BootBench.max(raw));
            System.out.printf("%-40s %8d %8d %8d%n", "apply VirtualMachine -> Ready", cpP50, BootBench.min(controlPlane), BootBench.max(controlPlane));
            System.out.printf("ratio (control plane / raw): %.3f%n", ratio);
            System.out.printf("density: %d VMs applied at once on one node, all Ready after %d ms%n", density, allReady);
            System.out.printf("node runtime JVM RSS %d MiB with %d VMs; QEMU RSS p50 %d MiB (min %d, max %d)%n",
                    nodeRss >> 20, density, qemuP50 >> 20, BootBench.min(qemuRss) >> 20, BootBench.max(qemuRss) >> 20);
            System.out.printf(Locale.ROOT, "{\"bench\":\"cold-start\",\"accelerator\":\"%s\",\"memoryMiB\":%d,\"runs\":%d,"
                            + "\"rawP50Ms\":%d,\"applyToReadyP50Ms\":%d,\"ratio\":%.3f,\"densityVms\":%d,\"densityAllReadyMs\":%d,"
                            + "\"nodeRuntimeRssBytes\":%d,\"qemuRssP50Bytes\":%d,\"raw\":%s,\"applyToReady\":%s}%n",
                    engine.accelerator().apiName(), MEMORY_MIB, runs, rawP50, cpP50, ratio, density, allReady,
                    nodeRss, qemuP50, raw, controlPlane);
        } finally {
            cluster.down();
        }
    }

    static VirtualMachine vm(String name) {
        VirtualMachine vm = BenchGuests.idle(name, MEMORY_MIB + "Mi");
        vm.getSpec().setNodeSelector(Map.of(Labels.NODE, LocalCluster.nodeName(0)));
        return vm;
    }

    /** Applies the VMs together and returns ms until every one reports Ready. */
    static long applyAndAwaitReady(KubernetesClient client, List<String> names) throws InterruptedException {
        long t0 = System.nanoTime();
        for (String name : names) {
            client.resource(vm(name)).create();
        }
        while (!names.stream().allMatch(n -> {
            VirtualMachine vm = client.resources(VirtualMachine.class).inNamespace("default").withName(n).get();
            return vm != null && vm.getStatus() != null && Conditions.isTrue(vm.getStatus().getConditions(), "Ready");
        })) {
            TimeUnit.MILLISECONDS.sleep(10);
            if (System.nanoTime() - t0 > TimeUnit.MINUTES.toNanos(10)) {
                throw new IllegalStateException("VMs " + names + " not Ready after 10 minutes");
            }
        }
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    }

    static void deleteAll(KubernetesClient client, List<String> names) throws InterruptedException {
        names.forEach(n -> client.resources(VirtualMachine.class).inNamespace("default").withName(n).delete());
        while (names.stream().anyMatch(n -> client.resources(VirtualMachineInstance.class).inNamespace("default").withName(n).get() != null
                || client.resources(VirtualMachine.class).inNamespace("default").withName(n).get() != null)) {
            TimeUnit.MILLISECONDS.sleep(100);
        }
    }

    static long rss(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (Exception e) {
            // gone
        }
        return 0;
    }

    /** Reads pidfiles the way the local cluster writes them. */
    static final class Processes {
        static long pid(Path pidFile) throws java.io.IOException {
            return Long.parseLong(Files.readString(pidFile).strip());
        }
    }
}
