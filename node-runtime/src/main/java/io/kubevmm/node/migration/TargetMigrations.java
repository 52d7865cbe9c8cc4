package io.kubevmm.node.migration;

import io.kubevmm.api.status.ConditionTypes;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.v1alpha1.VMMigration;
import io.kubevmm.api.v1alpha1.VMMigrationSpec.Strategy;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.node.engine.MigrationStatus;
import io.kubevmm.node.events.EventRecorder;
import io.kubevmm.node.files.FileTree;
import io.kubevmm.node.images.ImageState;
import io.kubevmm.node.images.ImagesNotReady;
import io.kubevmm.node.lifecycle.VmiConfigMapper;
import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.engine.VmmInstance;
import io.kubevmm.node.lifecycle.NodeVms;
import io.kubevmm.node.transfer.TunnelService;
import io.kubevmm.node.transfer.tunnel.TunnelSecrets;
import io.kubevmm.node.transfer.tunnel.TunnelServer;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The receiving end of live migrations: an incoming emulator per migration, a tunnel
 * registration that only its source can use, and a watcher that hands the guest to the node's
 * VMs once it has arrived, or cleans everything up when the migration ends otherwise. It reports
 * facts only, in {@code status.target} (ready, the guest runs here, failed); the operator derives
 * the phase from them and hands the VMI over.
 */
@ApplicationScoped
public class TargetMigrations {
    private static final Logger LOG = Logger.getLogger(TargetMigrations.class);
    private static final Duration POLL = Duration.ofMillis(20);
    private static final Duration STILL_WANTED_CHECK = Duration.ofSeconds(1);
    /** How long an incoming emulator waits for its first byte before giving up. */
    private static final Duration CONNECT_TIMEOUT = Duration.ofMinutes(3);

    private final KubernetesClient client;
    private final NodeVms vms;
    private final VmiConfigMapper mapper;
    private final TunnelService tunnel;
    private final MigrationMetrics metrics;
    private final Map<String, Arrival> arrivals = new ConcurrentHashMap<>();
    /** Secrets not yet collected by their source; each can be taken once. */
    private final Map<String, byte[]> secrets = new ConcurrentHashMap<>();

    TargetMigrations(KubernetesClient client, NodeVms vms, VmiConfigMapper mapper, TunnelService tunnel,
                     MigrationMetrics metrics) {
        this.client = client;
        this.vms = vms;
        this.mapper = mapper;
        this.tunnel = tunnel;
        this.metrics = metrics;
    }

    private record Arrival(MigrationRef ref, VmConfig config, VmmInstance instance, TunnelServer.Registration registration) { }

    public boolean isReceiving(String uid) {
        return arrivals.containsKey(uid);
    }

    /** The tunnel secret of a prepared migration, once: only the source that asks first gets it. */
    public Optional<byte[]> takeSecret(String uid) {
        return Optional.ofNullable(secrets.remove(uid));
    }

    /**
     * Starts the incoming emulator and the tunnel for {@code migration}, then reports TargetReady.
     *
     * @return false when the VM's downloaded base images are not in this node's cache yet: their
     *         download runs, its progress is in {@code status.target.images}, and the caller asks again
     */
    public boolean prepare(VMMigration migration) {
        MigrationRef ref = MigrationRef.of(migration);
        if (arrivals.containsKey(ref.uid()) || !vms.reserveArrival(ref.namespace(), ref.vmName())) {
            return true;
        }
        VmmInstance instance = null;
        try {
            VirtualMachineInstance vmi = client.resources(VirtualMachineInstance.class).inNamespace(ref.namespace())
                    .withName(ref.vmName()).get();
            if (vmi == null) {
                throw new EngineException(EngineException.Reason.OperationFailed, "VirtualMachineInstance " + ref.vmName() + " is gone");
            }
            VmConfig config = mapper.toConfig(vmi);
            instance = vms.engine().createIncoming(config);
            boolean postcopy = migration.getSpec().getStrategy() != Strategy.PreCopy;
            Path stream = config.stateDir().resolve("incoming.sock");
            Path disks = config.stateDir().resolve("incoming-nbd.sock");
            int channels = MigrationStreams.multifdChannels(migration.getSpec());
            // Multifd and preempt channels are connections of their own: relayed, never handed off.
            boolean handOff = !MigrationStreams.ownConnections(migration.getSpec(), vms.engine())
                    && MigrationStreams.handOff(tunnel.tls(), vms.engine()) && tunnel.server().canHandOff();
            TunnelServer.Destination memory = MigrationStreams.incoming(instance.incoming(), stream, postcopy, handOff, channels,
                    MigrationStreams.postcopyPreempt(migration.getSpec(), vms.engine()));
            instance.incoming().exportDisks(disks);
            byte[] secret = TunnelSecrets.generate();
            TunnelServer.Registration registration = tunnel.server().registerDestinations(ref.uid(), secret,
                    !config.hasBlockState() ? Map.of(MigrationStreams.CHANNEL, memory)
                            : Map.of(MigrationStreams.CHANNEL, memory, "nbd", TunnelServer.Destination.relayTo(disks)));
            LOG.infof("migration %s: memory stream arrives by %s%s", ref, MigrationStreams.mode(handOff),
                    MigrationStreams.ownConnectionsNote(migration.getSpec(), vms.engine()));
            Arrival arrival = new Arrival(ref, config, instance, registration);
            arrivals.put(ref.uid(), arrival);
            secrets.put(ref.uid(), secret);
            boolean guestReady = vmi.getStatus() != null && Conditions.isTrue(vmi.getStatus().getConditions(), ConditionTypes.READY);
            Thread.ofVirtual().name("migration-in " + ref).start(() -> watch(arrival, guestReady));
            reportTargetReady(migration, instance.pid());
        } catch (ImagesNotReady waiting) {
            cleanUp(ref, null);
            return reportImages(migration, ref, waiting);
        } catch (EngineException | RuntimeException e) {
            LOG.warnf("cannot prepare the target of migration %s: %s", ref, e.getMessage());
            if (instance != null) {
                instance.destroy();
            }
            cleanUp(ref, null);
            try {
                MigrationRef.reportTarget(client, migration, MigrationRef.failure(vms.nodeName(), "TargetFailed", e.getMessage(), false));
            } catch (RuntimeException report) {
                LOG.warnf("migration %s: cannot report that the target failed: %s", ref, report.getMessage());
            }
        }
        return true;
    }

    /**
     * The target lacks a downloaded base image: a failed download ends the migration (TargetFailed,
     * naming the field), one under way is reported as progress and the operator waits for it.
     */
    private boolean reportImages(VMMigration migration, MigrationRef ref, ImagesNotReady waiting) {
        var failed = waiting.failed();
        if (failed.isPresent()) {
            LOG.warnf("migration %s: cannot prepare the target: %s", ref, waiting.getMessage());
            MigrationRef.reportTarget(client, migration, MigrationRef.failure(vms.nodeName(), "TargetFailed",
                    "node " + vms.nodeName() + " cannot download the VM's base image: " + failed.get().field()
                            + " (disk " + failed.get().disk() + "): " + ((ImageState.Failed) failed.get().state()).message(), false));
            return true;
        }
        var facts = MigrationRef.fact(vms.nodeName(), "node " + vms.nodeName() + " downloads the VM's base images before it"
                + " prepares the target: " + waiting.getMessage());
        facts.setImages(waiting.statuses());
        facts.setSampleTime(java.time.Instant.now().toString());
        MigrationRef.reportTarget(client, migration, facts);
        return false;
    }

    /** The fact the operator moves the migration to TargetReady on (and the source starts sending from). */
    private void reportTargetReady(VMMigration migration, long pid) {
        var facts = MigrationRef.fact(vms.nodeName(), "QEMU " + pid + " on node " + vms.nodeName()
                + " waits for the guest's state; tunnel port " + tunnel.port());
        facts.setReadyTime(java.time.Instant.now().toString());
        var before = migration.getStatus() == null ? null : migration.getStatus().getTarget();
        if (before != null && before.getImages() != null && !before.getImages().isEmpty()) {
            facts.setImages(java.util.List.of()); // the downloads are done: a merge patch replaces the list
        }
        MigrationRef.reportTarget(client, migration, facts);
    }

    /**
     * A fact the source needs if it restarts before handing the VMI over: this node runs the guest
     * now ({@code status.target.completedTime}; the operator shows it as condition TargetRunning).
     * Best effort: the source can also ask {@link #arrivalFacts}.
     */
    private void reportTargetRunning(Arrival arrival) {
        try {
            VMMigration now = arrival.ref().current(client);
            if (now == null) {
                return;
            }
            var facts = MigrationRef.fact(vms.nodeName(), "QEMU " + arrival.instance().pid() + " on node " + vms.nodeName()
                    + " runs the guest");
            facts.setCompletedTime(java.time.Instant.now().toString());
            MigrationRef.reportTarget(client, now, facts);
        } catch (RuntimeException e) {
            LOG.warnf("migration %s: cannot record that the guest runs here: %s", arrival.ref(), e.getMessage());
        }
    }

    /** The guest runs here now: its NICs announce their MACs (RARP) so the network sends its traffic here. */
    private void announce(Arrival arrival) {
        if (arrival.config().network() == VmConfig.NetworkMode.NONE) {
            return;
        }
        try {
            boolean sent = arrival.instance().incoming().announce();
            LOG.infof("migration %s: %s", arrival.ref(), sent ? "the guest's network interfaces announced themselves here"
                    : "this QEMU cannot announce the guest's network interfaces again (only its own announcement was sent)");
        } catch (EngineException e) {
            LOG.warnf("migration %s: announce-self failed: %s", arrival.ref(), e.getMessage());
        }
    }

    /**
     * What this node knows of a VM a migration sends here, for a source that restarted mid-way:
     * {@code receiving} (the incoming emulator for that migration is up), {@code runs} (a guest
     * that arrived runs here), {@code leftover} (its state dir exists without either: an emulator
     * may still live there, so nothing can be concluded).
     */
    public Map<String, Object> arrivalFacts(String namespace, String name, String uid) {
        boolean receiving = arrivals.containsKey(uid);
        var runner = vms.find(namespace, name);
        boolean runs = runner.isPresent() && switch (runner.get().observe().machine()) {
            case RUNNING, PAUSED, CREATED -> true;
            default -> false;
        };
        boolean leftover = !receiving && !runs && java.nio.file.Files.exists(vms.stateDir(namespace, name));
        return Map.of("node", vms.nodeName(), "receiving", receiving, "runs", runs, "leftover", leftover);
    }

    /** Waits for the guest on the target; hands it over on success, cleans up on anything else. */
    private void watch(Arrival arrival, boolean guestReady) {
        long started = System.nanoTime();
        long nextCheck = 0;
        String outcome;
        try {
            while (true) {
                MigrationStatus status = arrival.instance().incoming().status();
                if (status == MigrationStatus.COMPLETED) {
                    arrival.instance().incoming().stopDiskExport();
                    arrival.registration().close();
                    vms.takeOver(arrival.ref().namespace(), arrival.ref().vmName(), arrival.config(), arrival.instance(), guestReady);
                    arrivals.remove(arrival.ref().uid());
                    secrets.remove(arrival.ref().uid());
                    reportTargetRunning(arrival);
                    LOG.infof("VM %s arrived by migration %s; QEMU %d runs it here", arrival.ref().vmName(), arrival.ref(), arrival.instance().pid());
                    announce(arrival);
                    return;
                }
                if (status == MigrationStatus.FAILED || status == MigrationStatus.CANCELLED) {
                    outcome = "the incoming migration " + status.name().toLowerCase(java.util.Locale.ROOT);
                    break;
                }
                if (System.nanoTime() > nextCheck) {
                    nextCheck = System.nanoTime() + STILL_WANTED_CHECK.toNanos();
                    String stop = arrival.ref().stopReason(client);
                    if (stop != null) {
                        outcome = stop;
                        break;
                    }
                    if (status == MigrationStatus.SETUP || status == MigrationStatus.NONE) {
                        if (System.nanoTime() - started > CONNECT_TIMEOUT.toNanos()) {
                            outcome = "no source connected within " + CONNECT_TIMEOUT.toMinutes() + " minutes";
                            break;
                        }
                    }
                }
                Thread.sleep(POLL);
            }
        } catch (EngineException | InterruptedException | RuntimeException e) {
            outcome = "the incoming emulator failed: " + e.getMessage();
        }
        LOG.infof("dropping the target of migration %s: %s", arrival.ref(), outcome);
        arrival.registration().close();
        arrival.instance().destroy();
        cleanUp(arrival.ref(), arrival.config());
        metrics.targetDropped();
    }

    private void cleanUp(MigrationRef ref, VmConfig config) {
        arrivals.remove(ref.uid());
        secrets.remove(ref.uid());
        if (config != null) {
            try {
                FileTree.delete(config.stateDir());
            } catch (IOException e) {
                LOG.warnf("cannot delete %s: %s", config.stateDir(), e.getMessage());
            }
        }
        vms.releaseArrival(ref.namespace(), ref.vmName());
    }
}
