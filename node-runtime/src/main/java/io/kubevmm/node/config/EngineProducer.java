package io.kubevmm.node.config;

import io.kubevmm.node.console.ReadinessWatcher;
import io.kubevmm.node.engine.VmmEngine;
import io.kubevmm.node.engine.qemu.QemuEngine;
import io.kubevmm.node.network.GuestPorts;
import io.kubevmm.node.network.HostCommands;
import io.kubevmm.node.network.OverlayEngine;
import io.kubevmm.node.network.OverlayNetworks;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import java.util.Locale;

/** Wires the engine (QEMU today) and the shared readiness watcher from configuration. */
public class EngineProducer {

    /**
     * The node's overlay data plane: the host's own network (a node runtime whose node is a
     * network namespace runs inside it), its files under the state dir, tap devices for the guests.
     */
    @Produces
    @Singleton
    OverlayNetworks overlayNetworks(NodeConfig config) {
        HostCommands host = HostCommands.host();
        return new OverlayNetworks(host, new GuestPorts.Taps(host), config.stateDir().resolve("network"),
                config.effectiveUnderlayAddress());
    }

    /** QEMU, with the overlay networks of its guests set up around each emulator it starts. */
    @Produces
    @Singleton
    VmmEngine engine(NodeConfig config, OverlayNetworks networks) {
        return new OverlayEngine(qemu(config), networks);
    }

    /** The node runtime stops: overlay networks without a running guest go (guests that run keep theirs). */
    void close(@Disposes VmmEngine engine) {
        if (engine instanceof OverlayEngine overlay) {
            overlay.shutdown();
        }
    }

    private static VmmEngine qemu(NodeConfig config) {
        QemuEngine.AcceleratorChoice choice;
        try {
            choice = QemuEngine.AcceleratorChoice.valueOf(config.qemu().accelerator().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("kubevmm.node.qemu.accelerator \"" + config.qemu().accelerator()
                    + "\" is not one of auto, kvm, tcg");
        }
        return new QemuEngine(config.qemu().binary(), config.qemu().img(), choice, config.qemu().user().orElse(null));
    }

    @Produces
    @Singleton
    ReadinessWatcher readinessWatcher() {
        return new ReadinessWatcher();
    }

    void close(@Disposes ReadinessWatcher watcher) {
        watcher.close();
    }
}
