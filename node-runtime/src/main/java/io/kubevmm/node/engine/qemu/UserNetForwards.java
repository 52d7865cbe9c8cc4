package io.kubevmm.node.engine.qemu;

import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.engine.EngineException.Reason;
import io.kubevmm.node.engine.GuestPort;
import io.kubevmm.node.engine.VmConfig;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;

/**
 * Connections to guest ports through QEMU's user network (slirp). QEMU 10.0 forwards only TCP and
 * UDP host ports (its rule parser refuses {@code unix:}), so each connection is made through a
 * {@code hostfwd} rule of its own on a free loopback port, added to netdev {@code net0} over the
 * instance's own QMP connection ({@code human-monitor-command}: QEMU has no QMP command for it).
 * Once slirp has accepted the connection (it shows in {@code info usernet}) the rule is removed
 * again: the accepted connection lives on without it, so the port was open for milliseconds.
 * Should that not show in time, the rule stays until the connection is closed.
 */
final class UserNetForwards {
    private static final Logger LOG = Logger.getLogger(UserNetForwards.class);
    private static final String NETDEV = "net0"; // QemuCommandLine's user netdev
    /** Another process may take the free port between our probe and QEMU's bind: try a few. */
    private static final int ATTEMPTS = 5;
    private static final Duration ACCEPT_WAIT = Duration.ofSeconds(2);

    private final QemuInstance instance;

    UserNetForwards(QemuInstance instance) {
        this.instance = instance;
    }

    GuestPort open(int guestPort, Duration timeout) throws EngineException {
        VmConfig config = instance.config();
        if (guestPort < 1 || guestPort > 65535) {
            throw new EngineException(Reason.OperationFailed, "guest port " + guestPort + " is not a TCP port (1-65535)");
        }
        if (config.network() != VmConfig.NetworkMode.USER) {
            throw new EngineException(Reason.OperationFailed, "VM " + config.id() + " has no network device to reach port "
                    + guestPort + " through (network mode " + config.network().name().toLowerCase() + ")");
        }
        InetAddress loopback = InetAddress.getLoopbackAddress();
        String said = "";
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            int hostPort = freePort(loopback);
            String rule = "tcp:" + loopback.getHostAddress() + ":" + hostPort;
            said = hmp("hostfwd_add " + NETDEV + " " + rule + "-:" + guestPort);
            if (said.isEmpty()) {
                return connect(new Rule(rule, hostPort), new InetSocketAddress(loopback, hostPort), guestPort, timeout);
            }
            if (!said.startsWith("Could not set up host forwarding rule")) {
                break; // not a port clash: trying again will not help
            }
        }
        throw new EngineException(Reason.OperationFailed, "VM " + config.id() + ": QEMU did not forward guest port "
                + guestPort + ": " + said);
    }

    private GuestPort connect(Rule rule, InetSocketAddress address, int guestPort, Duration timeout) throws EngineException {
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(address, (int) Math.max(1, timeout.toMillis()));
        } catch (IOException e) {
            rule.remove();
            closeQuietly(socket);
            throw new EngineException(Reason.OperationFailed, "VM " + instance.config().id() + ": cannot connect to the forward of guest port "
                    + guestPort + ": " + e.getMessage(), e);
        }
        try {
            if (awaitAccepted(rule)) {
                rule.remove();
            } else {
                LOG.debugf("VM %s: slirp did not show the connection on %s in time; the forward stays until it closes",
                        instance.config().id(), rule.host);
            }
        } catch (EngineException e) {
            rule.remove();
            closeQuietly(socket);
            throw e;
        }
        return new Connection(socket, guestPort, rule);
    }

    /** Whether slirp took the connection off the rule's listener: a row for the port in another state than HOST_FORWARD. */
    private boolean awaitAccepted(Rule rule) throws EngineException {
        Pattern accepted = Pattern.compile("(?m)^\\s*TCP\\[(?!HOST_FORWARD)[A-Z_0-9]+\\]\\s+\\d+\\s+\\S+\\s+" + rule.port + "\\s");
        long deadline = System.nanoTime() + ACCEPT_WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            if (accepted.matcher(hmp("info usernet")).find()) {
                return true;
            }
            QemuInstance.sleepQuietly(5);
        }
        return false;
    }

    private String hmp(String commandLine) throws EngineException {
        return instance.command("human-monitor-command", Map.of("command-line", commandLine)).asText("").strip();
    }

    private static int freePort(InetAddress loopback) throws EngineException {
        try (ServerSocket probe = new ServerSocket(0, 1, loopback)) {
            return probe.getLocalPort();
        } catch (IOException e) {
            throw new EngineException(Reason.OperationFailed, "no free loopback port for a guest port forward: " + e.getMessage(), e);
        }
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    /** One hostfwd rule; removed once, whoever asks first. */
    private final class Rule {
        final String host;
        final int port;
        private final AtomicBoolean removed = new AtomicBoolean();

        Rule(String host, int port) {
            this.host = host;
            this.port = port;
        }

        void remove() {
            if (!removed.compareAndSet(false, true)) {
                return;
            }
            try {
                String said = hmp("hostfwd_remove " + NETDEV + " " + host);
                if (!said.endsWith("removed")) {
                    LOG.warnf("VM %s: removing the forward %s: %s", instance.config().id(), host, said);
                }
            } catch (EngineException e) {
                // QEMU gone (stopped, migrated): its forwards went with it.
                LOG.debugf("VM %s: forward %s not removed: %s", instance.config().id(), host, e.getMessage());
            }
        }
    }

    private static final class Connection implements GuestPort {
        private final Socket socket;
        private final int guestPort;
        private final Rule rule;

        Connection(Socket socket, int guestPort, Rule rule) {
            this.socket = socket;
            this.guestPort = guestPort;
            this.rule = rule;
        }

        @Override
        public Socket socket() { return socket; }

        @Override
        public int guestPort() { return guestPort; }

        @Override
        public void close() {
            closeQuietly(socket);
            rule.remove(); // a no-op once the connection was accepted
        }
    }
}
