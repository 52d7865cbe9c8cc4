package io.kubevmm.node.config;

import io.kubevmm.node.console.ReadinessWatcher;
import io.kubevmm.node.engine.VmmEngine;
import io.kubevmm.node.engine.qemu.QemuEngine;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import java.util.Locale;

/** Wires the engine (QEMU today) and the shared readiness watcher from configuration. */
public class EngineProducer {

    @Produces
    @Singleton
    VmmEngine engine(NodeConfig config) {
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
