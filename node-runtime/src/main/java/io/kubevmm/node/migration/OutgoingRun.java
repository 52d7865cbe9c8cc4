package io.kubevmm.node.migration;

import io.kubevmm.api.v1alpha1.SpecDefaults;
import io.kubevmm.api.v1alpha1.VMMigrationSpec;
import io.kubevmm.api.v1alpha1.VMMigrationStatus.Phase;
import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.engine.MigrationSample;
import io.kubevmm.node.engine.MigrationTotals;
import io.kubevmm.node.engine.MigrationTuning;
import io.kubevmm.node.engine.OutgoingMigration;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Drives one outgoing migration on the source emulator: disks first, then memory, sampling
 * progress a few times a second and doing what {@link MigrationPolicy} decides. Blocks until the
 * target has the guest; throws {@link MigrationStopped} or {@link EngineException} otherwise.
 */
public final class OutgoingRun {
    private static final Logger LOG = Logger.getLogger(OutgoingRun.class);
    private static final Duration SAMPLE_EVERY = Duration.ofMillis(100);
    private static final Duration DISK_SYNC_TIMEOUT = Duration.ofMinutes(30);

    /** What the run reports while it goes: progress samples, and policy decisions worth an Event. */
    public interface Progress {
        void transferStarted();

        void sample(MigrationSample sample, boolean postCopy);

        void decision(String reason, String what);
    }

    private final String id;
    private final MigrationSettings settings;
    private final Stream stream;
    private final Path disks;
    private final Supplier<String> stopRequested;
    private final Supplier<String> tunnelError;
    private final Progress progress;

    /** How the memory stream leaves: started once the disks are in sync. */
    @FunctionalInterface
    public interface Stream {
        void start(OutgoingMigration out, MigrationTuning tuning) throws EngineException;
    }

    /** Opens the authenticated connection to the target that a {@link #overConnection} stream hands to the emulator. */
    @FunctionalInterface
    public interface Connector {
        SocketChannel connect() throws IOException;
    }

    /** The stream goes into a unix socket whose other end (the tunnel relay) carries it to the target. */
    public static Stream throughSocket(Path unixSocket) {
        return throughSocket(unixSocket, 0);
    }

    /**
     * As {@link #throughSocket(Path)}, with {@code multifdChannels} more connections the emulator opens
     * to the same socket for memory pages; the relay tunnels each, authenticated like the first.
     */
    public static Stream throughSocket(Path unixSocket, int multifdChannels) {
        return (out, tuning) -> out.start(unixSocket, tuning.withMultifdChannels(multifdChannels));
    }

    /**
     * As {@link #throughSocket(Path, int)}; with {@code postcopyPreempt} (and post-copy allowed) the
     * emulator opens one more connection to the socket for the pages the target faults on.
     */
    public static Stream throughSocket(Path unixSocket, int multifdChannels, boolean postcopyPreempt) {
        return (out, tuning) -> out.start(unixSocket, tuning.withMultifdChannels(multifdChannels).withPostcopyPreempt(postcopyPreempt));
    }

    /**
     * The stream goes over a connection {@code connector} opens to the target, handed to the emulator;
     * this process closes its copy at once. A refused or failed connection stops the run as failed.
     */
    public static Stream overConnection(Connector connector) {
        return (out, tuning) -> {
            SocketChannel connection;
            try {
                connection = connector.connect();
            } catch (IOException e) {
                throw new MigrationStopped(Phase.Failed, "TransferFailed", "tunnel: " + e.getMessage()
                        + "; the VM keeps running on the source");
            }
            try (connection) {
                out.start(connection, tuning);
            } catch (IOException e) {
                LOG.debugf("closing this process's copy of the migration connection: %s", e);
            }
        };
    }

    /**
     * @param stream        unix socket whose other end carries the memory stream to the target
     * @param disks         unix socket to the target's disk export, or null when the VM has no disks
     * @param stopRequested a reason to stop (cancel, deletion), or null to go on; asked about once a second
     * @param tunnelError   what the tunnel last refused or failed on, for the failure message
     */
    public OutgoingRun(String id, MigrationSettings settings, Path stream, Path disks, Supplier<String> stopRequested,
                Supplier<String> tunnelError, Progress progress) {
        this(id, settings, throughSocket(stream), disks, stopRequested, tunnelError, progress);
    }

    /**
     * @param stream        how the memory stream reaches the target ({@link #throughSocket}, {@link #overConnection})
     * @param disks         unix socket to the target's disk export, or null when the VM has no disks
     * @param stopRequested a reason to stop (cancel, deletion), or null to go on; asked about once a second
     * @param tunnelError   what the tunnel last refused or failed on, for the failure message
     */
    public OutgoingRun(String id, MigrationSettings settings, Stream stream, Path disks, Supplier<String> stopRequested,
                Supplier<String> tunnelError, Progress progress) {
        this.id = id;
        this.settings = settings;
        this.stream = stream;
        this.disks = disks;
        this.stopRequested = stopRequested;
        this.tunnelError = tunnelError;
        this.progress = progress;
    }

    /** The spec's settings; without a completion timeout in the spec, the default the operator put in status. */
    public static MigrationSettings settings(io.kubevmm.api.v1alpha1.VMMigration migration) {
        MigrationSettings fromSpec = settings(migration.getSpec());
        Long fallback = migration.getStatus() == null ? null : migration.getStatus().getCompletionTimeoutSeconds();
        if (fromSpec.completionTimeout() != null || fallback == null) {
            return fromSpec;
        }
        return new MigrationSettings(fromSpec.strategy(), fromSpec.maxDowntimeMillis(), fromSpec.bandwidthBytesPerSecond(),
                Duration.ofSeconds(fallback), fromSpec.autoConverge());
    }

    public static MigrationSettings settings(VMMigrationSpec spec) {
        return new MigrationSettings(SpecDefaults.strategy(spec), SpecDefaults.maxDowntimeMillis(spec),
                SpecDefaults.bandwidthMiBps(spec) << 20,
                spec.getCompletionTimeoutSeconds() == null ? null : Duration.ofSeconds(spec.getCompletionTimeoutSeconds()),
                SpecDefaults.autoConverge(spec));
    }

    public MigrationTotals run(OutgoingMigration out) throws EngineException {
        if (disks != null) {
            out.mirrorDisks(disks, DISK_SYNC_TIMEOUT);
        }
        stream.start(out, new MigrationTuning(settings.strategy() != VMMigrationSpec.Strategy.PreCopy, settings.autoConverge(),
                settings.maxDowntimeMillis(), settings.bandwidthBytesPerSecond()));
        progress.transferStarted();
        long t0 = System.nanoTime();
        long nextStopCheck = 0;
        boolean postCopy = false;
        int throttleIncrement = -1;
        List<MigrationSample> history = new ArrayList<>();
        while (true) {
            long elapsed = (System.nanoTime() - t0) / 1_000_000;
            MigrationSample sample = out.progress(elapsed);
            switch (sample.status()) {
                case COMPLETED -> {
                    if (disks != null) {
                        out.finishDiskMirrors();
                    }
                    return out.totals();
                }
                case FAILED -> {
                    // A cancel reaches the target too, which may drop its end first: that failure is the cancellation.
                    String stop = postCopy ? null : stopRequested.get();
                    if (stop != null) {
                        throw new MigrationStopped(Phase.Cancelled, "Cancelled", stop + "; the VM keeps running on the source");
                    }
                    throw failed(out, "QEMU reported the migration failed");
                }
                case CANCELLED -> throw new MigrationStopped(Phase.Cancelled, "Cancelled", "cancelled");
                default -> { }
            }
            if (System.nanoTime() > nextStopCheck) {
                nextStopCheck = System.nanoTime() + 1_000_000_000L;
                String stop = postCopy ? null : stopRequested.get();
                if (stop != null) {
                    out.cancel();
                    throw new MigrationStopped(Phase.Cancelled, "Cancelled", stop + "; the VM keeps running on the source");
                }
            }
            history.add(sample);
            postCopy |= sample.inPostCopy();
            progress.sample(sample, postCopy);
            switch (MigrationPolicy.decide(settings, history)) {
                case PolicyAction.Continue c -> { }
                case PolicyAction.RaiseThrottle raise -> {
                    if (raise.incrementPercent() != throttleIncrement) {
                        throttleIncrement = raise.incrementPercent();
                        out.setThrottleIncrement(throttleIncrement);
                        progress.decision(raise.reason(), "ThrottleRaised");
                    }
                }
                case PolicyAction.SwitchToPostCopy sw -> {
                    if (!postCopy) {
                        out.startPostcopy();
                        postCopy = true;
                        progress.decision(sw.reason(), "SwitchedToPostCopy");
                    }
                }
                case PolicyAction.Abort abort -> {
                    out.cancel();
                    throw new MigrationStopped(Phase.Failed, "Aborted", abort.reason());
                }
            }
            sleep(SAMPLE_EVERY);
        }
    }

    private MigrationStopped failed(OutgoingMigration out, String what) {
        String tunnel = tunnelError.get();
        LOG.warnf("migration of %s failed%s", id, tunnel == null ? "" : " (tunnel: " + tunnel + ")");
        return new MigrationStopped(Phase.Failed, "TransferFailed", what + (tunnel == null ? "" : "; tunnel: " + tunnel)
                + "; the VM keeps running on the source");
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MigrationStopped(Phase.Failed, "Interrupted", "the node runtime is shutting down");
        }
    }
}
