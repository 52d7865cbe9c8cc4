package io.kubevmm.bench;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.v1alpha1.EvacuationStatus;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VMMigrationSpec;
import io.kubevmm.api.v1alpha1.VMMigrationStatus;
import io.kubevmm.api.v1alpha1.VMNode;
import io.kubevmm.api.v1alpha1.VirtualMachine;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.e2e.LocalCluster;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Soak of the live-migration paths on the two-node local cluster, as an operator of a fleet runs
 * them: per run, three memcheck guests on node-a are evacuated to node-b and back, then five
 * guests migrate at once. Every guest is checked after every move: a second boot (the marker on
 * the console it now writes, or a tick count going back) is a reboot; {@code memcheck BAD} means
 * memory arrived corrupted. After the run's VMs are deleted, any QEMU still running from the
 * cluster's state dirs and any VM state dir left over is counted as a leftover.
 */
public final class SoakBench {
    private static final String MARKER = "KUBEVMM-GUEST-READY";
    private static final Pattern TICK = Pattern.compile("^tick (\\d+)", Pattern.MULTILINE);
    private static final Set<VMMigrationStatus.Phase> DONE =
            Set.of(VMMigrationStatus.Phase.Succeeded, VMMigrationStatus.Phase.Failed, VMMigrationStatus.Phase.Cancelled);
    private static final Duration STEP = Duration.ofMinutes(5);

    /** What one run measured. */
    record Run(int migrations, int succeeded, List<String> rebooted, List<String> memoryBad, List<String> leftovers, long millis) {
        boolean clean() {
            return succeeded == migrations && rebooted.isEmpty() && memoryBad.isEmpty() && leftovers.isEmpty();
        }
    }

    private final LocalCluster cluster;
    private final KubernetesClient client;
    private final String token;
    private final HttpClient http = HttpClient.newHttpClient();
    /** What each guest's console showed before its latest move (or attempt at one). */
    private final Map<String, Seen> seen = new LinkedHashMap<>();

    /** A guest's console as last recorded: where it ran, its last tick, how many ticks and boot markers. */
    private record Seen(String node, int lastTick, int ticks, int markers) { }

    private SoakBench(LocalCluster cluster, KubernetesClient client, String token) {
        this.cluster = cluster;
        this.client = client;
        this.token = token;
    }

    public static void main(String[] args) throws Exception {
        ClusterBenchOptions options = ClusterBenchOptions.parse(args, 10);
        int runs = options.runs();
        Path repo = options.repo();
        LocalCluster cluster = new LocalCluster(repo, repo.resolve("bench/target/soak-cluster"), System.err);
        cluster.down(true); // every soak starts on an empty cluster
        List<Run> results = new ArrayList<>();
        try {
            cluster.up(2, "4Gi");
            try (KubernetesClient client = cluster.client()) {
                SoakBench soak = new SoakBench(cluster, client, Files.readString(cluster.home().nodeToken()).strip());
                for (int i = 1; i <= runs; i++) {
                    Run run = soak.run(i);
                    results.add(run);
                    System.out.printf(Locale.ROOT, "run %d/%d: migrations %d/%d succeeded, rebooted %s, memcheck %s, leftovers %s (%.0f s)%n",
                            i, runs, run.succeeded(), run.migrations(), none(run.rebooted()),
                            run.memoryBad().isEmpty() ? "ok" : "BAD " + run.memoryBad(), none(run.leftovers()), run.millis() / 1000.0);
                }
            }
        } finally {
            List<String> stopped = cluster.down();
            if (!stopped.isEmpty()) {
                System.err.println("local down stopped: " + String.join(", ", stopped));
            }
        }
        long clean = results.stream().filter(Run::clean).count();
        int migrations = results.stream().mapToInt(Run::migrations).sum();
        int succeeded = results.stream().mapToInt(Run::succeeded).sum();
        int reboots = results.stream().mapToInt(r -> r.rebooted().size()).sum();
        int bad = results.stream().mapToInt(r -> r.memoryBad().size()).sum();
        int leftovers = results.stream().mapToInt(r -> r.leftovers().size()).sum();
        System.out.printf(Locale.ROOT, "%nsoak: %d/%d runs clean; migrations %d/%d succeeded; reboots %d; memcheck BAD %d; leftovers %d%n",
                clean, results.size(), succeeded, migrations, reboots, bad, leftovers);
        System.out.printf(Locale.ROOT, "{\"bench\":\"soak\",\"runs\":%d,\"cleanRuns\":%d,\"migrations\":%d,\"succeeded\":%d,"
                + "\"reboots\":%d,\"memcheckBad\":%d,\"leftovers\":%d}%n", results.size(), clean, migrations, succeeded, reboots, bad, leftovers);
        System.exit(clean == results.size() ? 0 : 1);
    }

    private static String none(List<String> names) {
        return names.isEmpty() ? "none" : names.toString();
    }

    private Run run(int index) throws Exception {
        long t0 = System.nanoTime();
        String a = LocalCluster.nodeName(0);
        String b = LocalCluster.nodeName(1);
        List<String> three = List.of("soak-1", "soak-2", "soak-3");
        List<String> five = List.of("soak-1", "soak-2", "soak-3", "soak-4", "soak-5");
        List<String> rebooted = new ArrayList<>();
        List<String> memoryBad = new ArrayList<>();
        seen.clear();

        setNode(b, "unschedulable", true); // the three start on node-a
        try {
            three.forEach(n -> client.resource(vm(n)).create());
            awaitReady(three);
        } finally {
            setNode(b, "unschedulable", false);
        }
        recordTicks(three);

        int migrations = 0;
        int succeeded = 0;
        for (String node : List.of(a, b)) { // away from node-a, then back from node-b
            migrations += three.size();
            succeeded += evacuate(node, three);
            check(three, rebooted, memoryBad);
        }

        List.of("soak-4", "soak-5").forEach(n -> client.resource(vm(n)).create());
        awaitReady(List.of("soak-4", "soak-5"));
        recordTicks(five);
        List<String> names = new ArrayList<>();
        for (String vm : five) {
            names.add(migrate(vm, "soak-" + index + "-" + vm));
        }
        for (String name : names) {
            migrations++;
            if (awaitMigration(name) == VMMigrationStatus.Phase.Succeeded) {
                succeeded++;
            }
        }
        check(five, rebooted, memoryBad);

        for (String name : names) {
            client.resources(VMMigration.class).inNamespace("default").withName(name).delete();
        }
        five.forEach(n -> client.resources(VirtualMachine.class).inNamespace("default").withName(n).delete());
        awaitUntil(STEP, "the run's VMs to be gone", () -> five.stream().allMatch(n -> vmObject(n) == null && vmi(n) == null));
        return new Run(migrations, succeeded, rebooted, memoryBad, leftovers(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    }

    /**
     * Evacuates a node, waits until done, lets it take VMs again; returns how many of the VMs it
     * ran now run elsewhere, and says so when the evacuation's own count disagrees.
     */
    private int evacuate(String node, List<String> vms) throws Exception {
        setNode(node, "evacuate", true);
        try {
            awaitUntil(STEP, "evacuation of " + node, () -> {
                EvacuationStatus e = client.resources(VMNode.class).withName(node).get().getStatus().getEvacuation();
                return e != null && e.getPhase() == EvacuationStatus.Phase.Completed;
            });
            int reported = client.resources(VMNode.class).withName(node).get().getStatus().getEvacuation().getMigrated();
            int moved = (int) vms.stream().filter(vm -> !node.equals(vmi(vm).getStatus().getNodeName())).count();
            if (reported != moved) {
                System.err.printf("evacuation of %s reports %d migrated, %d of %s moved%n", node, reported, moved, vms);
            }
            return moved;
        } finally {
            setNode(node, "evacuate", false);
        }
    }

    private String migrate(String vm, String name) {
        VMMigrationSpec spec = new VMMigrationSpec();
        spec.setVmName(vm);
        VMMigration migration = new VMMigration();
        migration.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("default").build());
        migration.setSpec(spec);
        client.resource(migration).create();
        return name;
    }

    private VMMigrationStatus.Phase awaitMigration(String name) throws Exception {
        awaitUntil(STEP, "migration " + name, () -> {
            VMMigration m = client.resources(VMMigration.class).inNamespace("default").withName(name).get();
            return m.getStatus() != null && DONE.contains(m.getStatus().getPhase());
        });
        VMMigration done = client.resources(VMMigration.class).inNamespace("default").withName(name).get();
        if (done.getStatus().getPhase() != VMMigrationStatus.Phase.Succeeded) {
            System.err.printf("migration %s: %s %s%n", name, done.getStatus().getPhase(), done.getStatus().getFailureReason());
        }
        return done.getStatus().getPhase();
    }

    private void recordTicks(List<String> vms) throws Exception {
        for (String vm : vms) {
            awaitUntil(STEP, "ticks of " + vm, () -> ticks(console(vm)).size() > 1);
            record(vm, console(vm));
        }
    }

    private void record(String vm, String console) {
        List<Integer> ticks = ticks(console);
        seen.put(vm, new Seen(vmi(vm).getStatus().getNodeName(), ticks.getLast(), ticks.size(), markers(console)));
    }

    private static int markers(String console) {
        return console.split(MARKER, -1).length - 1;
    }

    /**
     * After a move each guest must tick on from where it was and pass memcheck only. A guest that
     * moved is read from the console its new node writes since the arrival: a boot marker there,
     * or a first tick below the last one seen, is a reboot. A guest that stayed (its migration
     * did not happen) is read from the same console: a further boot marker, or ticks going back
     * after what was seen, is a reboot.
     */
    private void check(List<String> vms, List<String> rebooted, List<String> memoryBad) throws Exception {
        for (String vm : vms) {
            awaitReady(List.of(vm));
            Seen before = seen.get(vm);
            awaitUntil(STEP, "ticks of " + vm + " past " + before.lastTick(), () -> {
                String c = console(vm);
                List<Integer> t = ticks(c);
                return !t.isEmpty() && t.getLast() > before.lastTick() + 1 || markers(c) > (moved(vm, before) ? 0 : before.markers());
            });
            String console = console(vm);
            List<Integer> ticks = ticks(console);
            boolean rebootedNow;
            if (moved(vm, before)) {
                rebootedNow = markers(console) > 0 || ticks.getFirst() < before.lastTick() - 1;
            } else {
                rebootedNow = markers(console) > before.markers();
                for (int i = Math.max(1, before.ticks()); i < ticks.size(); i++) {
                    rebootedNow |= ticks.get(i) < ticks.get(i - 1);
                }
            }
            if (rebootedNow) {
                rebooted.add(vm + "@" + vmi(vm).getStatus().getNodeName());
            }
            if (console.contains("memcheck BAD")) {
                memoryBad.add(vm);
            }
            record(vm, console);
        }
    }

    private boolean moved(String vm, Seen before) {
        return !before.node().equals(vmi(vm).getStatus().getNodeName());
    }

    /** QEMUs still running from this cluster's state dirs, and VM state dirs left, after the run's VMs are gone. */
    private List<String> leftovers() throws IOException {
        List<String> found = new ArrayList<>();
        String nodes = cluster.home().nodesDir().toAbsolutePath().toString();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path proc : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    String cmdline = new String(Files.readAllBytes(proc.resolve("cmdline")), StandardCharsets.UTF_8).replace('\0', ' ');
                    if (cmdline.contains("qemu-system") && cmdline.contains(nodes)) {
                        found.add("qemu pid " + proc.getFileName());
                    }
                } catch (IOException gone) {
                    // exited meanwhile
                }
            }
        }
        for (int i = 0; i < 2; i++) {
            Path vms = cluster.home().nodeStateDir(LocalCluster.nodeName(i)).resolve("vms");
            if (Files.isDirectory(vms)) {
                try (Stream<Path> dirs = Files.list(vms)) {
                    dirs.forEach(d -> found.add("state dir " + cluster.home().dir().relativize(d)));
                }
            }
        }
        return found;
    }

    private String console(String vm) throws IOException, InterruptedException {
        VirtualMachineInstance vmi = vmi(vm);
        String node = vmi.getStatus().getNodeName();
        String endpoint = client.resources(VMNode.class).withName(node).get().getStatus().getEndpoint();
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                        URI.create("http://" + endpoint + "/api/v1/namespaces/default/vms/" + vm + "/console?lines=100000"))
                .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.ISO_8859_1));
        if (response.statusCode() != 200) {
            throw new IOException("console of " + vm + " on " + node + ": HTTP " + response.statusCode());
        }
        return response.body();
    }

    private static List<Integer> ticks(String console) {
        List<Integer> ticks = new ArrayList<>();
        Matcher m = TICK.matcher(console);
        while (m.find()) {
            ticks.add(Integer.parseInt(m.group(1)));
        }
        return ticks;
    }

    private void awaitReady(List<String> vms) throws Exception {
        // Phase Running too, not only Ready: right after a move the VM may still say Migrating, and
        // a migration is admitted only for a Running VM (as `kubevmm migrate` would be told).
        awaitUntil(STEP, "VMs " + vms + " Running and Ready", () -> vms.stream().allMatch(n -> {
            VirtualMachine vm = vmObject(n);
            return vm != null && vm.getStatus() != null && vm.getStatus().getPhase() == io.kubevmm.api.v1alpha1.VmPhase.Running
                    && Conditions.isTrue(vm.getStatus().getConditions(), "Ready");
        }));
    }

    private VirtualMachine vmObject(String name) {
        return client.resources(VirtualMachine.class).inNamespace("default").withName(name).get();
    }

    private VirtualMachineInstance vmi(String name) {
        return client.resources(VirtualMachineInstance.class).inNamespace("default").withName(name).get();
    }

    private void setNode(String node, String field, boolean value) {
        client.resources(VMNode.class).withName(node)
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"" + field + "\":" + value + "}}");
    }

    interface Check {
        boolean holds() throws Exception;
    }

    private static void awaitUntil(Duration timeout, String what, Check check) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!check.holds()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out after " + timeout.toSeconds() + " s waiting for " + what);
            }
            TimeUnit.MILLISECONDS.sleep(250);
        }
    }

    private static VirtualMachine vm(String name) {
        return BenchGuests.running(name, "256Mi", "memcheck:32");
    }
}
