package io.kubevmm.node.api;

import io.kubevmm.node.config.NodeConfig;
import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.engine.GuestPort;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.lifecycle.NodeVms;
import io.kubevmm.node.lifecycle.VmRunner;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;

import java.net.Socket;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Opens forwarded sessions to guest ports for {@link PortForwardApi}: finds the VM on this node,
 * keeps to the per-VM limit, has the engine forward the port and connects to it. Each refusal
 * says why in words a user can act on, with the HTTP status the API answers with.
 */
@ApplicationScoped
public class GuestForwards {
    /** A session that could not be opened: the HTTP status and the message. */
    static final class Refused extends Exception {
        final int status;

        Refused(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    /** An open session: the connection to the guest port; closing it ends the connection and frees the slot. */
    static final class Session implements AutoCloseable {
        final String vm;
        private final GuestPort port;
        private final Runnable release;
        private final AtomicBoolean closed = new AtomicBoolean();

        Session(String vm, GuestPort port, Runnable release) {
            this.vm = vm;
            this.port = port;
            this.release = release;
        }

        Socket socket() { return port.socket(); }

        int guestPort() { return port.guestPort(); }

        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                port.close();
                release.run();
            }
        }
    }

    private final NodeVms vms;
    private final NodeConfig.PortForward settings;
    private final String node;
    private final ConcurrentHashMap<String, AtomicInteger> open = new ConcurrentHashMap<>();
    private final AtomicInteger active = new AtomicInteger();
    private final MeterRegistry registry;

    GuestForwards(NodeVms vms, NodeConfig config, MeterRegistry registry) {
        this.vms = vms;
        this.settings = config.portForward();
        this.node = config.name();
        this.registry = registry;
        Gauge.builder("kubevmm.portforward.sessions", active, AtomicInteger::get)
                .description("Port-forward and ssh sessions into guests open on this node").register(registry);
    }

    NodeConfig.PortForward settings() { return settings; }

    /** Opens a session to {@code guestPort} of VM {@code namespace/name}; blocks up to the connect timeout. */
    Session open(String namespace, String name, int guestPort) throws Refused {
        String vm = namespace + "/" + name;
        if (guestPort < 1 || guestPort > 65535) {
            throw refused(400, "BadPort", "port " + guestPort + " is not a TCP port (1-65535)");
        }
        VmRunner runner = vms.find(namespace, name)
                .orElseThrow(() -> refused(404, "NotFound", "VM " + vm + " is not on node " + node));
        if (runner.config().network() == VmConfig.NetworkMode.NONE) {
            throw refused(409, "NoNetwork", "VM " + vm + " has spec.network.mode none, so it has no port to reach;"
                    + " set spec.network.mode: user and restart it (kubevmm stop " + name + "; kubevmm start " + name + ")");
        }
        if (runner.config().network() == VmConfig.NetworkMode.OVERLAY) {
            throw refused(409, "OverlayNetwork", "VM " + vm + " is on overlay network " + runner.config().overlay().networkName()
                    + ": port-forward and ssh through the node need spec.network.mode user; reach the VM at its address "
                    + runner.config().overlay().ipAddress() + " from its node or from another VM on that network");
        }
        AtomicInteger count = open.computeIfAbsent(vm, k -> new AtomicInteger());
        if (count.incrementAndGet() > settings.maxPerVm()) {
            count.decrementAndGet();
            throw refused(429, "TooMany", "VM " + vm + " already has " + settings.maxPerVm()
                    + " port-forward sessions open (kubevmm.node.port-forward.max-per-vm)");
        }
        AtomicBoolean released = new AtomicBoolean();
        Runnable release = () -> {
            if (released.compareAndSet(false, true)) {
                count.decrementAndGet();
            }
        };
        try {
            GuestPort port = connect(runner, vm, guestPort);
            active.incrementAndGet();
            outcome("opened");
            return new Session(vm, port, () -> {
                active.decrementAndGet();
                release.run();
            });
        } catch (Refused r) {
            release.run();
            throw r;
        }
    }

    /** The engine's connection, made on the VM's own thread so no stop or migration runs meanwhile. */
    private GuestPort connect(VmRunner runner, String vm, int guestPort) throws Refused {
        var opening = runner.exclusive((emulator, config) -> emulator == null
                ? Optional.<GuestPort>empty() : Optional.of(emulator.openGuestPort(guestPort, settings.connectTimeout())));
        try {
            return opening.get(settings.connectTimeout().toMillis(), TimeUnit.MILLISECONDS).orElseThrow(() -> refused(409,
                    "NotRunning", "VM " + vm + " is not running (phase " + runner.observe().phase() + "); start it with: kubevmm start "
                            + vm.substring(vm.indexOf('/') + 1)));
        } catch (TimeoutException e) {
            opening.thenAccept(late -> late.ifPresent(GuestPort::close)); // opened after we gave up
            throw refused(503, "Busy", "VM " + vm + " is busy with another operation; try again (waited "
                    + settings.connectTimeout().toSeconds() + " s)");
        } catch (ExecutionException e) {
            String why = e.getCause() instanceof EngineException ee ? ee.getMessage() : String.valueOf(e.getCause());
            throw refused(502, "ConnectFailed", "cannot connect to port " + guestPort + " of VM " + vm + ": " + why);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw refused(503, "Busy", "node runtime is shutting down");
        }
    }

    void outcome(String outcome) {
        Counter.builder("kubevmm.portforward.requests").tag("outcome", outcome)
                .description("Port-forward and ssh session requests, by outcome").register(registry).increment();
    }

    private Refused refused(int status, String outcome, String message) {
        outcome(outcome);
        return new Refused(status, message);
    }
}
