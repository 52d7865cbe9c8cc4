package io.kubevmm.node.lifecycle;

import io.kubevmm.node.config.NodeConfig;
import io.kubevmm.node.console.ReadinessWatcher;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.engine.VmmEngine;
import io.kubevmm.node.engine.VmmInstance;
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
    /** Told (namespace, name) whenever a VM's observable state changed. */
    private volatile BiConsumer<String, String> changeListener = (ns, n) -> { };

    NodeVms(VmmEngine engine, ReadinessWatcher readiness, NodeMetrics metrics, NodeConfig config) {
        this.engine = engine;
        this.readiness = readiness;
        this.metrics = metrics;
        this.vmsDir = config.stateDir().resolve("vms");
        this.nodeName = config.name();
    }

    @PostConstruct
    void init() {
        metrics.trackPhases(() -> runners.values().stream());
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

    /** The VM's runner, created on first use and re-attached to whatever an earlier runtime left running. */
    public VmRunner runner(String namespace, String name, VmConfig config) {
        return runners.computeIfAbsent(id(namespace, name), id -> {
            VmRunner runner = new VmRunner(config, engine, readiness, hooks(namespace, name));
            try {
                // Wait: a status computed before adoption would report a running guest as absent.
                runner.adopt().get(30, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.warnf("adoption of %s did not finish: %s", id, e.getMessage());
            }
            metrics.track(namespace, name, runner);
            return runner;
        });
    }

    /**
     * Claims the state dir of a VM about to arrive by live migration, so the stray reaper leaves
     * its incoming emulator alone. False if this node already runs or receives that VM.
     */
    public boolean reserveArrival(String namespace, String name) {
        String id = id(namespace, name);
        return !runners.containsKey(id) && arriving.add(id);
    }

    public void releaseArrival(String namespace, String name) {
        arriving.remove(id(namespace, name));
    }

    /** Makes a guest that arrived by live migration one of this node's VMs, running in {@code arrived}. */
    public VmRunner takeOver(String namespace, String name, VmConfig config, VmmInstance arrived, boolean guestReady) {
        VmRunner runner = new VmRunner(config, engine, readiness, hooks(namespace, name));
        runners.put(id(namespace, name), runner);
        arriving.remove(id(namespace, name));
        metrics.track(namespace, name, runner);
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

    /** Ends any emulator still running from a stray state dir, then deletes the dir. */
    public void reap(Path dir) {
        reap(dir, true);
    }

    /**
     * Ends any emulator still running from a state dir nobody runs, then deletes the dir, or with
     * {@code deleteDisks} false everything in it but the disks.
     */
    public void reap(Path dir, boolean deleteDisks) {
        VmConfig probe = new VmConfig(dir.getFileName().toString(), dir, VmConfig.Profile.MICROVM, 1, 0,
                null, null, "", List.of(), VmConfig.NetworkMode.NONE, null);
        engine.adopt(probe).ifPresent(instance -> {
            LOG.warnf("stopping QEMU %d of %s: no VirtualMachineInstance for it exists any more", instance.pid(), dir);
            instance.destroy();
        });
        try {
            if (deleteDisks) {
                VmRunner.deleteTree(dir);
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
                    VmRunner.deleteTree(dir);
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
                VmRunner.deleteTree(dir);
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
                metrics.operation(action, took, succeeded);
            }

            @Override
            public void guestReady(VmRunner runner, Duration bootTime) {
                metrics.bootTime(bootTime);
            }
        };
    }
}
