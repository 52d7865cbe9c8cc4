package io.kubevmm.bench;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.v1alpha1.HighAvailabilitySpec;
import io.kubevmm.api.v1alpha1.VMNode;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VmPhase;
import io.kubevmm.e2e.ClusterQemus;
import io.kubevmm.e2e.LocalCluster;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Failover of a highAvailability Restart VM when its node dies (docs/ha.md), on the two-node local
 * cluster: per run a Restart VM is applied (apply → Ready on a healthy node is the baseline, the
 * cold boot a failover repeats), then its node's runtime and every QEMU of that node are killed
 * with SIGKILL, and the phases are timed from the kill: detection (the VMNode shows Ready=False
 * LeaseExpired), fence (the operator rewrote the instance's nodeName, after marking the Lease
 * fenced), boot (the VM Running and Ready on the other node) and total. Between runs the dead node
 * runtime is started again and the bench waits until it is Ready with its fence mark lifted.
 */
public final class FailoverBench {
    private static final String MARKER = "KUBEVMM-GUEST-READY";
    private static final String FENCED_AT = "kubevmm.io/fenced-at";
    private static final Duration STEP = Duration.ofMinutes(3);

    /** One failover, ms from the kill (boot: from the nodeName rewrite to Ready). */
    record Run(long baseline, long detection, long fenceMark, long fence, long boot, long total, String from, String to) { }

    private final LocalCluster cluster;
    private final KubernetesClient client;

    private FailoverBench(LocalCluster cluster, KubernetesClient client) {
        this.cluster = cluster;
        this.client = client;
    }

    public static void main(String[] args) throws Exception {
        ClusterBenchOptions options = ClusterBenchOptions.parse(args, 5);
        int runs = options.runs();
        Path repo = options.repo();
        LocalCluster cluster = new LocalCluster(repo, repo.resolve("bench/target/failover-cluster"), System.err);
        cluster.down(true); // an empty cluster: nothing of an earlier run beside the measured VM
        List<Run> done = new ArrayList<>();
        try {
            cluster.up(2, "2Gi");
            try (KubernetesClient client = cluster.client()) {
                FailoverBench bench = new FailoverBench(cluster, client);
                for (int i = 0; i < runs; i++) {
                    Run run = bench.run("failover-" + i);
                    done.add(run);
                    System.out.printf("run %d/%d: %s -> %s: baseline apply -> Ready %d ms; after the kill: detection %d ms,"
                                    + " fence mark %d ms, nodeName rewritten %d ms, boot %d ms (rewrite -> Ready), total %d ms%n",
                            i + 1, runs, run.from(), run.to(), run.baseline(), run.detection(), run.fenceMark(), run.fence(),
                            run.boot(), run.total());
                }
            }
            print(done);
        } finally {
            cluster.down();
        }
        // Everything the bench started is stopped and the output is written; in one run the JVM then
        // neither exited nor obeyed SIGTERM (a client thread or shutdown hook hanging), so it ends here.
        System.out.flush();
        System.err.flush();
        Runtime.getRuntime().halt(0);
    }

    private Run run(String name) throws Exception {
        long t0 = System.nanoTime();
        client.resource(vm(name)).create();
        await("VM " + name + " Ready", () -> ready(name));
        long baseline = ms(System.nanoTime() - t0);
        String from = vmi(name).getSpec().getNodeName();
        String to = from.equals(LocalCluster.nodeName(0)) ? LocalCluster.nodeName(1) : LocalCluster.nodeName(0);
        await("node " + to + " Ready", () -> nodeReady(to));

        // The node dies: its runtime and every guest of it at once (its fence guard finds nothing left to kill).
        Path nodeDir = cluster.home().nodeStateDir(from).toAbsolutePath().normalize();
        List<ProcessHandle> qemus = cluster.qemus().running().stream()
                .filter(q -> Path.of(q.stateDir()).startsWith(nodeDir)).map(ClusterQemus.Qemu::process).toList();
        if (qemus.isEmpty()) {
            throw new IllegalStateException("no QEMU of node " + from + " found for " + name);
        }
        cluster.kill9(from);
        long killed = System.nanoTime();
        Instant killedAt = Instant.now();
        qemus.forEach(ProcessHandle::destroyForcibly);

        long detection = -1;
        long fence = -1;
        long total;
        while (true) {
            long now = System.nanoTime();
            if (detection < 0 && leaseExpired(from)) {
                detection = ms(now - killed);
            }
            if (fence < 0 && to.equals(vmi(name).getSpec().getNodeName())) {
                fence = ms(now - killed);
            }
            if (fence >= 0 && ready(name) && to.equals(vmi(name).getStatus().getNodeName())) {
                total = ms(now - killed);
                break;
            }
            if (now - killed > STEP.toNanos()) {
                throw new IllegalStateException(name + " not Ready on node " + to + " " + STEP.toMinutes() + " min after node "
                        + from + " died (detection " + detection + " ms, fence " + fence + " ms)");
            }
            TimeUnit.MILLISECONDS.sleep(20);
        }
        if (detection < 0) {
            detection = fence; // the expiry and the move came between two looks
        }
        String mark = Optional.ofNullable(lease(from)).map(l -> l.getMetadata().getAnnotations())
                .map(a -> a.get(FENCED_AT)).orElse(null);
        long fenceMark = mark == null ? -1 : Duration.between(killedAt, Instant.parse(mark)).toMillis();

        // Ready for the next run: the dead node back and Ready, the old copy's state removed there (it
        // sees the VM moved away), its fence mark lifted; then the VM deleted.
        cluster.restart(from);
        await("node " + from + " Ready again", () -> nodeReady(from));
        Path oldDir = nodeDir.resolve("vms/default_" + name);
        await("old state " + oldDir + " removed", () -> !Files.exists(oldDir));
        await("fence mark of node " + from + " lifted", () -> Optional.ofNullable(lease(from)).map(l -> l.getMetadata().getAnnotations())
                .map(a -> !a.containsKey(FENCED_AT)).orElse(true));
        client.resources(VirtualMachine.class).inNamespace("default").withName(name).delete();
        await("VM " + name + " deleted", () -> client.resources(VirtualMachine.class).inNamespace("default").withName(name).get() == null
                && vmi(name) == null);
        return new Run(baseline, detection, fenceMark, fence, total - fence, total, from, to);
    }

    private static void print(List<Run> runs) {
        System.out.printf("%nfailover of a highAvailability Restart VM (idle guest, %s), node runtime and its QEMUs killed with SIGKILL, %d runs;"
                + " lease 15 s, renewal 3 s, fence margin 2 s (docs/ha.md)%n", MARKER, runs.size());
        System.out.printf("%-56s %8s %8s %8s%n", "", "min ms", "p50 ms", "max ms");
        row("cold start on a healthy node: apply -> Ready (baseline)", runs.stream().map(Run::baseline).toList());
        row("kill -> VMNode Ready=False LeaseExpired (detection)", runs.stream().map(Run::detection).toList());
        row("kill -> operator's fence mark (fenced-at)", runs.stream().map(Run::fenceMark).toList());
        row("kill -> VMI nodeName rewritten (fence)", runs.stream().map(Run::fence).toList());
        row("nodeName rewritten -> Running and Ready (boot)", runs.stream().map(Run::boot).toList());
        row("kill -> Running and Ready on the other node (total)", runs.stream().map(Run::total).toList());
        System.out.printf(Locale.ROOT, "{\"bench\":\"failover\",\"mode\":\"Restart\",\"runs\":%d,\"baselineP50Ms\":%d,\"detectionP50Ms\":%d,"
                        + "\"fenceP50Ms\":%d,\"bootP50Ms\":%d,\"totalP50Ms\":%d,\"baseline\":%s,\"detection\":%s,\"fence\":%s,\"boot\":%s,"
                        + "\"total\":%s}%n", runs.size(),
                BootBench.p50(runs.stream().map(Run::baseline).toList()), BootBench.p50(runs.stream().map(Run::detection).toList()),
                BootBench.p50(runs.stream().map(Run::fence).toList()), BootBench.p50(runs.stream().map(Run::boot).toList()),
                BootBench.p50(runs.stream().map(Run::total).toList()), runs.stream().map(Run::baseline).toList(),
                runs.stream().map(Run::detection).toList(), runs.stream().map(Run::fence).toList(),
                runs.stream().map(Run::boot).toList(), runs.stream().map(Run::total).toList());
    }

    private static void row(String what, List<Long> values) {
        System.out.printf("%-56s %8d %8d %8d%n", what, BootBench.min(values), BootBench.p50(values), BootBench.max(values));
    }

    static VirtualMachine vm(String name) {
        VirtualMachine vm = BenchGuests.idle(name, "256Mi");
        HighAvailabilitySpec ha = new HighAvailabilitySpec();
        ha.setMode(HighAvailabilitySpec.Mode.Restart);
        vm.getSpec().setHighAvailability(ha);
        return vm;
    }

    private boolean ready(String name) {
        VirtualMachine vm = client.resources(VirtualMachine.class).inNamespace("default").withName(name).get();
        return vm != null && vm.getStatus() != null && vm.getStatus().getPhase() == VmPhase.Running
                && Conditions.isTrue(vm.getStatus().getConditions(), "Ready");
    }

    private VirtualMachineInstance vmi(String name) {
        return client.resources(VirtualMachineInstance.class).inNamespace("default").withName(name).get();
    }

    private boolean nodeReady(String node) {
        VMNode vmNode = client.resources(VMNode.class).withName(node).get();
        return vmNode != null && vmNode.getStatus() != null && Conditions.isTrue(vmNode.getStatus().getConditions(), "Ready");
    }

    private boolean leaseExpired(String node) {
        VMNode vmNode = client.resources(VMNode.class).withName(node).get();
        Optional<Condition> ready = vmNode == null || vmNode.getStatus() == null ? Optional.empty()
                : Conditions.find(vmNode.getStatus().getConditions(), "Ready");
        return ready.map(c -> "False".equals(c.getStatus()) && "LeaseExpired".equals(c.getReason())).orElse(false);
    }

    private Lease lease(String node) {
        return client.leases().inNamespace("kubevmm-system").withName("kubevmm-node-" + node).get();
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + STEP.toNanos();
        while (true) {
            try {
                if (condition.getAsBoolean()) {
                    return;
                }
            } catch (RuntimeException notYet) {
                // an object in between states, or the API briefly unavailable: look again
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(what + ": not within " + STEP.toMinutes() + " min");
            }
            TimeUnit.MILLISECONDS.sleep(100);
        }
    }

    private static long ms(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }
}
