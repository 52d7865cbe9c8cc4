package io.kubevmm.node.lifecycle;

import io.kubevmm.node.config.NodeConfig;
import io.kubevmm.node.console.ReadinessWatcher;
import io.kubevmm.node.engine.EmulatorUnreachableException;
import io.kubevmm.node.engine.ProcessLiveness;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.engine.VmmEngine;
import io.kubevmm.node.engine.VmmInstance;
import io.kubevmm.node.files.FileTree;
import io.kubevmm.node.metrics.NodeMetrics;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/** The VMs of this node: one {@link VmRunner} each, found again in the state dir after a restart. */
@ApplicationScoped
public class NodeVms {
    private static final Logger LOG = Logger.getLogger(NodeVms.class);

    private final VmmEngine engine;
    private final ReadinessWatcher readiness;
    private final NodeMetrics metrics;
    private final Path vmsDir;
    private final String nodeName;
    private final Map<String, VmRunner> runners = new ConcurrentHashMap<>();
    /** VMs arriving by live migration: their state dirs are in use before any VMI points here. */
    private final Set<String> arriving = ConcurrentHashMap.newKeySet();
    /** State dirs present when this runtime started: the only VMs adopted from pidfile and socket. */
    private final Set<String> leftByEarlierRuntime = ConcurrentHashMap.newKeySet();
    /** Guards the claims on a VM (runner, arrival) so two parts never both take one emulator. */
    private final Object claims = new Object();
    /** Told (namespace, name) whenever a VM's observable state changed. */
    private volatile BiConsumer<String, String> changeListener = (ns, n) -> { };

    /** Whether the guest of a state dir may boot now (fencing: see {@code io.kubevmm.node.ha}). */
    private final java.util.function.Predicate<Path> mayBoot;

    NodeVms(VmmEngine engine, ReadinessWatcher readiness, NodeMetrics metrics, NodeConfig config) {
        this(engine, readiness, metrics, config, dir -> true);
    }

    @jakarta.inject.Inject
    NodeVms(VmmEngine engine, ReadinessWatcher readiness, NodeMetrics metrics, NodeConfig config,
            io.kubevmm.node.ha.SelfFence fencing, io.kubevmm.node.ha.Placement placement) {
        // A highly available guest boots only while this node holds its Lease, its guard runs, and
        // the API server (not a cache that may predate a failover) says the VM is still placed here.
        this(engine, readiness, metrics, config, dir -> placement.mayBoot(dir, fencing::mayBootFencedGuest));
    }

    private NodeVms(VmmEngine engine, ReadinessWatcher readiness, NodeMetrics metrics, NodeConfig config,
                    java.util.function.Predicate<Path> mayBoot) {
        this.mayBoot = mayBoot;
        this.engine = engine;
        this.readiness = readiness;
        this.metrics = metrics;
        this.vmsDir = config.stateDir().resolve("vms");
        this.nodeName = config.name();
        // Nothing of this runtime runs yet: every VM dir now is what an earlier runtime left.
        if (Files.isDirectory(vmsDir)) {
            try (var dirs = Files.list(vmsDir)) {
                dirs.filter(Files::isDirectory).forEach(d -> leftByEarlierRuntime.add(d.getFileName().toString()));
            } catch (IOException e) {
                LOG.warnf("cannot list %s: %s", vmsDir, e.getMessage());
            }
        }
    }

    @PostConstruct
    void init() {
        metrics.trackPhases(() -> runners.values().stream().map(r -> r.observe().phase()));
        metrics.trackGuestAgents(() -> runners.values().stream().filter(r -> r.guestAgent().connected()).count());
    }

    public VmmEngine engine() { return engine; }

    public String nodeName() { return nodeName; }

    public void onChange(BiConsumer<String, String> listener) {
        this.changeListener = listener;
    }

    public static String id(String namespace, String name) {
        return namespace + "_" + name;
    }

    public Path stateDir(String namespace, String name) {
        return vmsDir.resolve(id(namespace, name));
    }

    public Optional<VmRunner> find(String namespace, String name) {
        return Optional.ofNullable(runners.get(id(namespace, name)));
    }

    public Collection<VmRunner> all() {
        return runners.values();
    }

    /**
     * The VM's runner, created on first use. Empty while another part of this node runtime holds
     * the VM's emulator (a guest arriving by migration, a restore): it hands the emulator over
     * itself ({@link #takeOver}), and a second monitor connection to it would get no answer.
     * Only a VM whose state dir an earlier node runtime left is adopted from pidfile and socket.
     */
    public Optional<VmRunner> runner(String namespace, String name, VmConfig config) {
        String id = id(namespace, name);
        VmRunner runner;
        boolean adopt;
        synchronized (claims) {
            VmRunner existing = runners.get(id);
            if (existing != null) {
                return Optional.of(existing);
            }
            if (arriving.contains(id)) {
                return Optional.empty();
            }
            runner = new VmRunner(config, engine, readiness, hooks(namespace, name));
            adopt = leftByEarlierRuntime.remove(id);
            runners.put(id, runner);
        }
        if (adopt) {
            try {
                // Wait: a status computed before adoption would report a running guest as absent.
                runner.adopt().get(30, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.warnf("adoption of %s did not finish: %s", id, e.getMessage());
            }
        }
        metrics.track(namespace, name, () -> runner.observe().pid());
        return Optional.of(runner);
    }

    /** True when the VM's state dir was there when this node runtime started and no runner has taken it yet. */
    public boolean leftByEarlierRuntime(String namespace, String name) {
        return leftByEarlierRuntime.contains(id(namespace, name));
    }

    /**
     * Claims the state dir of a VM about to arrive (live migration, restore), so nothing else in
     * this runtime touches its emulator: no runner, no adoption, no stray reaping. False if this
     * node already runs or receives that VM.
     */
    public boolean reserveArrival(String namespace, String name) {
        String id = id(namespace, name);
        synchronized (claims) {
            return !runners.containsKey(id) && arriving.add(id);
        }
    }

    public void releaseArrival(String namespace, String name) {
        synchronized (claims) {
            arriving.remove(id(namespace, name));
        }
    }

    /**
     * Makes a guest that arrived (live migration, restore) one of this node's VMs: its emulator,
     * with the one monitor connection its launcher holds, goes to a new runner.
     */
    public VmRunner takeOver(String namespace, String name, VmConfig config, VmmInstance arrived, boolean guestReady) {
        String id = id(namespace, name);
        VmRunner runner = new VmRunner(config, engine, readiness, hooks(namespace, name));
        synchronized (claims) {
            VmRunner existing = runners.putIfAbsent(id, runner);
            if (existing != null) {
                throw new IllegalStateException("VM " + id + " already has a runner on node " + nodeName
                        + "; the arrived QEMU " + arrived.pid() + " was not claimed before it started");
            }
            arriving.remove(id);
            leftByEarlierRuntime.remove(id);
        }
        metrics.track(namespace, name, () -> runner.observe().pid());
        runner.takeOver(arrived, guestReady).join();
        return runner;
    }

    /** Stops and forgets a VM; its state dir is deleted, disks included. */
    public CompletableFuture<Void> delete(String namespace, String name) {
        return delete(namespace, name, true);
    }

    /**
     * Stops and forgets a VM's instance. With {@code deleteDisks} its state dir goes; without,
     * only its disks stay (the VM was stopped, not deleted).
     */
    public CompletableFuture<Void> delete(String namespace, String name, boolean deleteDisks) {
        VmRunner runner = runners.get(id(namespace, name));
        if (runner == null) {
            // No runner (e.g. this runtime restarted since): whatever an earlier one left goes the same way.
            Path dir = stateDir(namespace, name);
            if (Files.isDirectory(dir) && !arriving.contains(id(namespace, name))) {
                reap(dir, deleteDisks);
            }
            return CompletableFuture.completedFuture(null);
        }
        return runner.delete(deleteDisks).whenComplete((v, e) -> {
            runners.remove(id(namespace, name), runner);
            metrics.untrack(namespace, name);
        });
    }

    /**
     * State dirs of VMs this node no longer has an object for. Their emulators must not keep
     * running unseen (the invariant: no orphan QEMU).
     */
    public List<Path> strayStateDirs(Set<String> knownIds) {
        if (!Files.isDirectory(vmsDir)) {
            return List.of();
        }
        try (var dirs = Files.list(vmsDir)) {
            return dirs.filter(Files::isDirectory)
                    .filter(d -> !knownIds.contains(d.getFileName().toString()))
                    .filter(d -> !runners.containsKey(d.getFileName().toString()))
                    .filter(d -> !arriving.contains(d.getFileName().toString()))
                    .toList();
        } catch (IOException e) {
            LOG.warnf("cannot list %s: %s", vmsDir, e.getMessage());
            return List.of();
        }
    }

    /**
     * Ends any emulator still running from a stray state dir (no VMI for it exists any more, so
     * that is the decision, not a guess), then deletes the dir.
     */
    public void reap(Path dir) {
        reap(dir, true);
    }

    /**
     * Ends any emulator still running from a state dir nobody runs, then deletes the dir, or with
     * {@code deleteDisks} false everything in it but the disks.
     */
    public void reap(Path dir, boolean deleteDisks) {
        String id = dir.getFileName().toString();
        VmConfig probe = new VmConfig(id, dir, VmConfig.Profile.MICROVM, 1, 0,
                null, null, "", List.of(), VmConfig.NetworkMode.NONE, null);
        try {
            engine.adopt(probe).ifPresent(instance -> {
                LOG.warnf("stopping QEMU %d of %s: no VirtualMachineInstance for it exists any more", instance.pid(), dir);
                instance.destroy();
            });
        } catch (EmulatorUnreachableException e) {
            LOG.warnf("%s; stopping it: no VirtualMachineInstance for it exists any more", e.getMessage());
            e.process().destroyForcibly();
            ProcessLiveness.exited(e.process()).orTimeout(10, java.util.concurrent.TimeUnit.SECONDS).exceptionally(x -> null).join();
        }
        leftByEarlierRuntime.remove(id);
        try {
            if (deleteDisks) {
                FileTree.delete(dir);
            } else {
                DiskRetention.keepDisksOnly(dir);
            }
        } catch (IOException e) {
            LOG.warnf("cannot clean up stray %s: %s", dir, e.getMessage());
        }
    }

    /**
     * Before a VMI is run here: records which VirtualMachine (uid) the state dir's disks belong
     * to. Disks kept for an earlier VM of the same name (another uid) are deleted first, so a new
     * VM never sees an old one's data. Serialized with {@link #dropKeptDisks} per VM.
     */
    public void claim(String namespace, String name, String vmUid) {
        if (vmUid == null) {
            return; // a VMI without an owning VM (tests): nothing to match the disks against
        }
        Path dir = stateDir(namespace, name);
        runners.compute(id(namespace, name), (id, runner) -> {
            Optional<String> recorded = DiskRetention.owner(dir);
            try {
                if (recorded.isPresent() && recorded.get().equals(vmUid)) {
                    return runner;
                }
                if (recorded.isPresent() && runner == null) {
                    LOG.infof("%s: deleting the disks kept for an earlier VirtualMachine of that name (uid %s; this one is %s)",
                            id, recorded.get(), vmUid);
                    FileTree.delete(dir);
                }
                DiskRetention.recordOwner(dir, vmUid);
            } catch (IOException e) {
                LOG.warnf("cannot record the owner of %s: %s", dir, e.getMessage());
            }
            return runner;
        });
    }

    /** State dirs nothing runs or receives right now: those of stopped VMs keep their disks there. */
    public List<Path> idleStateDirs() {
        return strayStateDirs(Set.of());
    }

    /**
     * Deletes a state dir kept for a stopped VM, unless a runner took it over or its recorded
     * owner changed since {@code decidedForUid} was read (the decision is then stale).
     */
    public boolean dropKeptDisks(Path dir, String decidedForUid) {
        String id = dir.getFileName().toString();
        boolean[] dropped = {false};
        runners.compute(id, (key, runner) -> {
            if (runner != null || arriving.contains(key)
                    || !java.util.Objects.equals(DiskRetention.owner(dir).orElse(null), decidedForUid)) {
                return runner;
            }
            try {
                FileTree.delete(dir);
                dropped[0] = true;
            } catch (IOException e) {
                LOG.warnf("cannot delete %s: %s", dir, e.getMessage());
            }
            return runner;
        });
        return dropped[0];
    }

    private VmRunner.RunnerHooks hooks(String namespace, String name) {
        return new VmRunner.RunnerHooks() {
            @Override
            public void changed(VmRunner runner) {
                changeListener.accept(namespace, name);
            }

            @Override
            public void operationDone(VmRunner runner, Action action, Duration took, boolean succeeded) {
                metrics.operation(action.name(), took, succeeded);
            }

            @Override
            public void guestReady(VmRunner runner, Duration bootTime) {
                metrics.bootTime(bootTime);
            }

            @Override
            public boolean mayBoot(VmRunner runner) {
                return mayBoot.test(runner.stateDir());
            }
        };
    }
}
