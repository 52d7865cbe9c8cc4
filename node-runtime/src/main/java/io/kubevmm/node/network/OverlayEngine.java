package io.kubevmm.node.network;

import io.kubevmm.node.engine.Accelerator;
import io.kubevmm.node.engine.DiskChain;
import io.kubevmm.node.engine.EmulatorUnreachableException;
import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.engine.ProcessLiveness;
import io.kubevmm.node.engine.SnapshotImage;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.engine.VmmEngine;
import io.kubevmm.node.engine.VmmInstance;
import org.jboss.logging.Logger;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An engine whose overlay guests have their network: before an emulator of a VM with network mode
 * OVERLAY starts (boot, restore, a migration's incoming side, a snapshot's restore or clone), its
 * tap is on its segment's bridge (the segment brought up on this node if it is the first guest on
 * it) and DHCP knows its MAC; when that emulator process ends, whoever ended it, the tap goes
 * (and the segment with its last guest). An adopted emulator's tap is taken back the same way.
 * Everything else is the wrapped engine's.
 */
public final class OverlayEngine implements VmmEngine {
    private static final Logger LOG = Logger.getLogger(OverlayEngine.class);
    /** Owner of a tap whose emulator is starting: no exit of an earlier emulator may take the tap away meanwhile. */
    private static final long STARTING = -1;

    private final VmmEngine engine;
    private final OverlayNetworks networks;
    /** Tap device to the pid of the emulator that has it open. */
    private final Map<String, Long> owners = new ConcurrentHashMap<>();

    public OverlayEngine(VmmEngine engine, OverlayNetworks networks) {
        this.engine = engine;
        this.networks = networks;
    }

    public OverlayNetworks networks() { return networks; }

    /** The wrapped engine. */
    public VmmEngine engine() { return engine; }

    @FunctionalInterface
    private interface Launch {
        VmmInstance start() throws EngineException;
    }

    private VmmInstance withNetwork(VmConfig config, Launch launch) throws EngineException {
        if (config.network() != VmConfig.NetworkMode.OVERLAY) {
            return launch.start();
        }
        String tap = config.tapDevice();
        synchronized (this) {
            owners.put(tap, STARTING);
            try {
                networks.attach(tap, config.overlay());
            } catch (NetworkException e) {
                owners.remove(tap, STARTING);
                throw new EngineException(EngineException.Reason.NetworkUnavailable, "network " + config.overlay().networkName()
                        + " (vni " + config.overlay().vni() + ") on this node: " + e.getMessage(), e);
            }
        }
        VmmInstance instance;
        try {
            instance = launch.start();
        } catch (EngineException | RuntimeException e) {
            release(tap, STARTING);
            throw e;
        }
        watch(tap, instance.pid());
        return instance;
    }

    /** The tap stays while emulator {@code pid} lives; it goes with it. */
    private void watch(String tap, long pid) {
        owners.put(tap, pid);
        Optional<ProcessHandle> process = ProcessHandle.of(pid);
        if (process.isEmpty()) {
            release(tap, pid);
            return;
        }
        ProcessLiveness.exited(process.get()).thenRun(() -> Thread.ofVirtual().name("overlay-release " + tap).start(() -> release(tap, pid)));
    }

    private synchronized void release(String tap, long pid) {
        if (owners.remove(tap, pid)) {
            try {
                networks.detach(tap);
            } catch (NetworkException e) {
                LOG.warnf("removing %s from its overlay network: %s", tap, e.getMessage());
            }
        }
    }

    /** The node runtime stops: the network of guests that still run stays for the next one; the rest goes. */
    public void shutdown() {
        networks.shutdown(tap -> {
            Long pid = owners.get(tap);
            return pid != null && (pid == STARTING || ProcessHandle.of(pid).map(ProcessLiveness::running).orElse(false));
        });
    }

    @Override
    public VmmInstance create(VmConfig config) throws EngineException {
        return withNetwork(config, () -> engine.create(config));
    }

    @Override
    public VmmInstance restore(VmConfig config) throws EngineException {
        return withNetwork(config, () -> engine.restore(config));
    }

    @Override
    public VmmInstance createIncoming(VmConfig config) throws EngineException {
        // The tap is on the bridge before the incoming emulator starts: the guest sends from its
        // first instant here (its announce-self among the first frames).
        return withNetwork(config, () -> engine.createIncoming(config));
    }

    @Override
    public VmmInstance restoreSnapshot(VmConfig target, SnapshotImage image) throws EngineException {
        return withNetwork(target, () -> engine.restoreSnapshot(target, image));
    }

    @Override
    public Optional<VmmInstance> adopt(VmConfig config) throws EmulatorUnreachableException {
        Optional<VmmInstance> adopted = engine.adopt(config);
        if (adopted.isPresent() && config.network() == VmConfig.NetworkMode.OVERLAY) {
            String tap = config.tapDevice();
            try {
                synchronized (this) {
                    owners.put(tap, STARTING);
                    networks.attach(tap, config.overlay());
                }
                watch(tap, adopted.get().pid());
            } catch (NetworkException e) {
                owners.remove(tap, STARTING);
                LOG.warnf("adopted %s, but its overlay network is not complete on this node: %s", config.id(), e.getMessage());
            }
        }
        return adopted;
    }

    @Override
    public Accelerator accelerator() { return engine.accelerator(); }

    @Override
    public String version() { return engine.version(); }

    @Override
    public boolean separatesPostcopyRequests() { return engine.separatesPostcopyRequests(); }

    @Override
    public List<String> capabilities() { return engine.capabilities(); }

    @Override
    public String confinement() { return engine.confinement(); }

    @Override
    public boolean runsUnprivileged() { return engine.runsUnprivileged(); }

    @Override
    public boolean takesConnections() { return engine.takesConnections(); }

    @Override
    public List<DiskChain> snapshotDisks(VmConfig config) throws EngineException { return engine.snapshotDisks(config); }

    @Override
    public List<Path> mergeUnsharedLayers(VmConfig config) throws EngineException { return engine.mergeUnsharedLayers(config); }

    @Override
    public long effectiveMemoryBytes(VmConfig config) { return engine.effectiveMemoryBytes(config); }

    @Override
    public List<String> workarounds(VmConfig config) { return engine.workarounds(config); }
}
