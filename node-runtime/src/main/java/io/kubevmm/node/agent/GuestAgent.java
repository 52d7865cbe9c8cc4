package io.kubevmm.node.agent;

import com.fasterxml.jackson.databind.JsonNode;
import org.jboss.logging.Logger;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The one owner of a VM's guest-agent channel (its socket takes a single client): the VM's
 * runner makes one and tells it when the emulator comes and goes and when the guest opens or
 * closes its end of the port (qemu-guest-agent starting, stopping, restarting). It connects only
 * while the guest's end is open, so a guest without an agent costs nothing: no socket traffic, no
 * waiting. Connected, it refreshes {@link GuestInfo} every {@link #REFRESH} (addresses change
 * with DHCP) on a thread of its own; lifecycle steps and snapshots call the commands below, each
 * with a timeout, and never wait on an agent that does not answer longer than that.
 */
public final class GuestAgent implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(GuestAgent.class);

    static final Duration REFRESH = Duration.ofSeconds(12);
    static final Duration RETRY = Duration.ofSeconds(5);
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(3);
    static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(5);
    /** fsfreeze syncs every file system first: a busy guest takes a while. */
    static final Duration FREEZE_TIMEOUT = Duration.ofSeconds(30);

    private final String vmId;
    private final Runnable onChange;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wake = lock.newCondition();
    private final Thread worker;
    private final Timeouts timeouts;

    // All guarded by lock.
    private Path socket;
    private boolean channelOpen;
    private GuestAgentClient client;
    private volatile AgentState state = AgentState.NO_EMULATOR;
    private boolean closed;

    /** How long the agent waits for what; tests shorten them. */
    public record Timeouts(Duration refresh, Duration retry, Duration connect, Duration command, Duration freeze) {
        public static final Timeouts DEFAULT = new Timeouts(REFRESH, RETRY, CONNECT_TIMEOUT, COMMAND_TIMEOUT, FREEZE_TIMEOUT);
    }

    /** {@code onChange}: told (on the agent's thread) whenever {@link #state()} changed. */
    public GuestAgent(String vmId, Runnable onChange) {
        this(vmId, onChange, Timeouts.DEFAULT);
    }

    public GuestAgent(String vmId, Runnable onChange, Timeouts timeouts) {
        this.vmId = vmId;
        this.onChange = onChange;
        this.timeouts = timeouts;
        this.worker = Thread.ofVirtual().name("guest-agent " + vmId).start(this::run);
    }

    public AgentState state() {
        return state;
    }

    /**
     * An emulator with the agent's channel on {@code socket} (null: none, or a machine without the
     * channel) now runs the VM; {@code guestEndOpen}: whether the guest already opened its end.
     */
    public void attach(Path socket, boolean guestEndOpen) {
        connectTo(socket, guestEndOpen, socket == null ? AgentState.NO_CHANNEL : notRunning());
    }

    /** The emulator is gone: no channel until the next {@link #attach}. */
    public void detach() {
        connectTo(null, false, AgentState.NO_EMULATOR);
    }

    private void connectTo(Path socket, boolean guestEndOpen, AgentState initial) {
        lock.lock();
        try {
            disconnect(null);
            this.socket = socket;
            this.channelOpen = socket != null && guestEndOpen;
            setState(initial);
            wake.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The guest opened (agent started) or closed (agent stopped, guest reset or shutting down) its end of the port. */
    public void guestEnd(boolean open) {
        lock.lock();
        try {
            if (socket == null || open == channelOpen) {
                return;
            }
            channelOpen = open;
            if (!open) {
                disconnect(notRunning());
            }
            wake.signalAll();
        } finally {
            lock.unlock();
        }
    }

    public boolean connected() {
        return state.connected();
    }

    /**
     * Asks the guest to power off ({@code guest-shutdown}, mode powerdown). Returns at once once the
     * agent took it; false when no agent is connected or it refused (then try ACPI).
     */
    public boolean shutdown() {
        if (!acquire()) {
            return false;
        }
        try {
            if (client == null) {
                return false;
            }
            client.executeWithoutReply("guest-shutdown", Map.of("mode", "powerdown"), Duration.ofMillis(500));
            return true;
        } catch (AgentException e) {
            LOG.infof("%s: guest-shutdown through the agent failed: %s", vmId, e.getMessage());
            failed(e);
            return false;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Freezes the guest's file systems ({@code guest-fsfreeze-freeze}): their caches are written
     * out and writes wait until {@link #thaw}. Returns the number of file systems frozen.
     * @throws AgentException when no agent is connected or the freeze failed (the agent thaws what it froze)
     */
    public int freeze() throws AgentException {
        if (!acquire()) {
            throw new AgentException("the guest agent of " + vmId + " is busy (" + state.message() + ")", true);
        }
        try {
            GuestAgentClient c = require("guest-fsfreeze-freeze");
            int frozen = c.execute("guest-fsfreeze-freeze", Map.of(), timeouts.freeze()).asInt();
            setState(withFrozen(true));
            return frozen;
        } catch (AgentException e) {
            failed(e);
            throw e;
        } finally {
            lock.unlock();
        }
    }

    /** Thaws the guest's file systems ({@code guest-fsfreeze-thaw}); returns how many were thawed. */
    public int thaw() throws AgentException {
        if (!acquire()) {
            throw new AgentException("the guest agent of " + vmId + " is busy (" + state.message() + ")", true);
        }
        try {
            GuestAgentClient c = require("guest-fsfreeze-thaw");
            int thawed = c.execute("guest-fsfreeze-thaw", Map.of(), timeouts.freeze()).asInt();
            setState(withFrozen(false));
            return thawed;
        } catch (AgentException e) {
            failed(e);
            throw e;
        } finally {
            lock.unlock();
        }
    }

    /** {@code guest-fsfreeze-status}: {@code frozen} or {@code thawed}. */
    public String freezeStatus() throws AgentException {
        if (!acquire()) {
            throw new AgentException("the guest agent of " + vmId + " is busy (" + state.message() + ")", true);
        }
        try {
            return require("guest-fsfreeze-status").execute("guest-fsfreeze-status", Map.of(), timeouts.command()).asText();
        } catch (AgentException e) {
            failed(e);
            throw e;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            disconnect(null);
            wake.signalAll();
        } finally {
            lock.unlock();
        }
        worker.interrupt();
    }

    // ---- the agent's own thread: connect while the guest's end is open, refresh while connected ----

    private void run() {
        lock.lock();
        try {
            while (!closed) {
                Duration pause;
                if (channelOpen && client == null) {
                    pause = connect() ? timeouts.refresh() : timeouts.retry();
                } else if (client != null) {
                    if (!state.frozen()) { // a frozen guest's agent answers only freeze commands
                        refresh();
                    }
                    pause = client != null ? timeouts.refresh() : timeouts.retry();
                } else {
                    pause = null; // nothing to do until the guest opens its end
                }
                if (pause == null) {
                    wake.await();
                } else {
                    wake.awaitNanos(pause.toNanos());
                }
            }
        } catch (InterruptedException e) {
            // closed
        } finally {
            lock.unlock();
        }
    }

    private boolean connect() {
        Path at = socket;
        try {
            client = GuestAgentClient.connect(at, timeouts.connect());
        } catch (AgentException e) {
            LOG.debugf("%s: guest agent not answering on %s: %s", vmId, at, e.getMessage());
            setState(AgentState.disconnected("AgentNotResponding", "the guest opened the agent port but the agent does not answer: "
                    + e.getMessage() + " (tried again every " + timeouts.retry().toSeconds() + "s)"));
            return false;
        }
        setState(new AgentState(true, "Connected", "qemu-guest-agent answers", null, false, java.time.Instant.now()));
        thawLeftOver();
        if (client != null) {
            refresh();
        }
        return client != null;
    }

    /**
     * File systems frozen when nobody here holds them frozen: a guest restored from a full-state
     * snapshot taken while frozen (its memory, the agent's included, is that instant's), or a
     * freeze whose thaw was lost with the connection. Thawed at once: a frozen guest's writes wait.
     */
    private void thawLeftOver() {
        try {
            if ("frozen".equals(client.execute("guest-fsfreeze-status", Map.of(), timeouts.command()).asText())) {
                int thawed = client.execute("guest-fsfreeze-thaw", Map.of(), timeouts.freeze()).asInt();
                LOG.infof("%s: the guest's file systems were frozen with no snapshot holding them (restored from one taken"
                        + " while frozen, or a lost thaw); thawed %d", vmId, thawed);
            }
        } catch (AgentException e) {
            LOG.debugf("%s: checking for frozen file systems: %s", vmId, e.getMessage());
            failed(e);
        }
    }

    private void refresh() {
        try {
            GuestInfo info = GuestInfo.fromReplies(
                    client.execute("guest-get-osinfo", Map.of(), timeouts.command()),
                    client.execute("guest-get-host-name", Map.of(), timeouts.command()),
                    client.execute("guest-network-get-interfaces", Map.of(), timeouts.command()));
            AgentState now = state;
            String message = "qemu-guest-agent answers" + (info.osName() == null ? "" : " (" + info.osName() + ")");
            setState(new AgentState(true, "Connected", message, info, now.frozen(), now.connected() ? now.since() : java.time.Instant.now()));
        } catch (AgentException e) {
            LOG.debugf("%s: guest agent refresh failed: %s", vmId, e.getMessage());
            failed(e);
        }
    }

    /**
     * The lock, waiting at most a command's timeout: the agent's own thread holds it while it
     * connects or refreshes, and a caller from the lifecycle must not wait on an agent that hangs.
     */
    private boolean acquire() {
        try {
            return lock.tryLock(timeouts.command().toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private GuestAgentClient require(String command) throws AgentException {
        if (client == null) {
            throw new AgentException("no guest agent is connected for " + vmId + " (" + state.message() + "); '" + command + "' not sent", true);
        }
        return client;
    }

    /** A command that got no answer ends the connection: the next attempt syncs afresh. */
    private void failed(AgentException e) {
        if (e.noAnswer() && client != null) {
            disconnect(AgentState.disconnected("AgentNotResponding", e.getMessage()));
            wake.signalAll();
        }
    }

    private void disconnect(AgentState next) {
        if (client != null) {
            client.close();
            client = null;
        }
        if (next != null) {
            setState(next);
        }
    }

    private AgentState notRunning() {
        return AgentState.disconnected("AgentNotRunning", "no guest agent has opened its port in the guest (qemu-guest-agent not installed or not started yet)");
    }

    private AgentState withFrozen(boolean frozen) {
        AgentState s = state;
        return new AgentState(s.connected(), s.reason(), s.message(), s.info(), frozen, s.since());
    }

    private void setState(AgentState next) {
        AgentState before = state;
        state = next;
        if (!sameView(before, next)) {
            if (before.connected() != next.connected() || !before.reason().equals(next.reason())) {
                LOG.infof("%s: guest agent %s: %s", vmId, next.reason(), next.message());
            }
            try {
                onChange.run();
            } catch (RuntimeException e) {
                LOG.errorf(e, "guest agent listener failed for %s", vmId);
            }
        }
    }

    private static boolean sameView(AgentState a, AgentState b) {
        return a.connected() == b.connected() && a.reason().equals(b.reason()) && Objects.equals(a.info(), b.info())
                && a.frozen() == b.frozen();
    }
}
