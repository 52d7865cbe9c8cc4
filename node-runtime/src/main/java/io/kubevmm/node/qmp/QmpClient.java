package io.kubevmm.node.qmp;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kubevmm.node.qmp.PendingCommands.Pending;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * A connection to one QEMU's Machine Protocol (QMP) unix socket: greeting and capabilities
 * handshake, commands matched to their replies by id (safe to call from many threads at once),
 * and events delivered in QEMU's order on a dispatcher thread of the connection's own.
 *
 * <p>Failures surface as {@link QmpException}s whose message names the command and says why,
 * e.g. {@code QMP command 'migrate' failed: GenericError: ...}. Once the connection has ended,
 * because QEMU exited or {@link #close()} was called, every command fails at once.
 */
public final class QmpClient implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(QmpClient.class);

    /** How long a command waits for its reply unless the caller says otherwise. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    // QEMU answers within microseconds once it has accepted; a connect that used up its whole
    // timeout waiting for the socket still gets this long for the greeting and qmp_capabilities.
    private static final Duration MIN_HANDSHAKE = Duration.ofSeconds(1);

    /** Why the connection ended; {@code byQemu} decides the wording and whether a pending quit succeeded. */
    private record Ending(boolean byQemu, String reason) { }

    private static final Ending QEMU_CLOSED = new Ending(true, "QEMU closed it");

    private final Path socket;
    private final SocketChannel channel;
    private final PendingCommands pending = new PendingCommands();
    private final QmpWriter writer;
    private final EventDispatcher events;
    private final CompletableFuture<JsonNode> greeting = new CompletableFuture<>();
    private final AtomicReference<Ending> ending = new AtomicReference<>();
    private volatile QemuVersion version;

    private QmpClient(Path socket, SocketChannel channel) {
        this.socket = socket;
        this.channel = channel;
        this.writer = new QmpWriter(socket, channel, pending, this::isOpen, () -> ending.get().reason());
        this.events = new EventDispatcher(socket.toString());
    }

    /**
     * Connects to QEMU's QMP socket, reads the greeting and negotiates capabilities. Keeps trying to
     * connect until {@code timeout} while the socket is missing or refuses (QEMU may still be creating it).
     *
     * @throws QmpException if QEMU does not accept within {@code timeout}, sends no greeting (QEMU serves
     *                      one client per QMP socket; a second one waits in the backlog), or refuses the handshake
     */
    public static QmpClient connect(Path socket, Duration timeout) throws QmpException {
        long deadline = System.nanoTime() + timeout.toNanos();
        QmpClient client = new QmpClient(socket, QmpSocket.open(socket, timeout, deadline));
        Thread.ofVirtual().name("qmp-reader " + socket).start(client::read);
        try {
            client.handshake(timeout, deadline);
            return client;
        } catch (QmpException e) {
            client.close();
            throw e;
        }
    }

    /** The QEMU release this connection talks to, as its greeting announced it. */
    public QemuVersion version() {
        return version;
    }

    /** False once QEMU closed the connection or {@link #close()} was called; it never reopens. */
    public boolean isOpen() {
        return ending.get() == null;
    }

    /**
     * Receives every event in the order QEMU sent it, on the connection's dispatcher thread, never on
     * the caller's. Events are asynchronous to replies: QEMU sends STOP before the reply to {@code stop},
     * but the listener may see it after {@code execute("stop")} has returned. A listener that throws is
     * logged and does not affect other listeners or later events; listeners may issue commands.
     */
    public void addEventListener(Consumer<QmpEvent> listener) {
        events.addEventListener(Objects.requireNonNull(listener, "listener"));
    }

    /**
     * Runs once when the connection ends, whether QEMU exited or {@link #close()} was called, after
     * every event received before the end. Added after the end, it runs at once on another thread.
     */
    public void addCloseListener(Runnable listener) {
        events.addCloseListener(Objects.requireNonNull(listener, "listener"));
    }

    /** Runs a command without arguments, waiting up to {@link #DEFAULT_TIMEOUT} for its reply. */
    public JsonNode execute(String command) throws QmpException {
        return execute(command, Map.of(), DEFAULT_TIMEOUT);
    }

    /** Runs a command, waiting up to {@link #DEFAULT_TIMEOUT} for its reply. */
    public JsonNode execute(String command, Map<String, ?> arguments) throws QmpException {
        return execute(command, arguments, DEFAULT_TIMEOUT);
    }

    /**
     * Runs a command and returns its {@code return} member. A reply arriving after {@code timeout} is discarded.
     *
     * @throws QmpException if QEMU answers with an error ({@link QmpException#errorClass()} says which),
     *                      the timeout passes, the connection ends first, or the calling thread is interrupted
     */
    public JsonNode execute(String command, Map<String, ?> arguments, Duration timeout) throws QmpException {
        Pending sent = send(command, arguments, timeout);
        try {
            return sent.reply().get();
        } catch (ExecutionException e) {
            throw onCallerThread(command, e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            QmpException interrupted = new QmpException(command, null,
                    "interrupted while waiting for QMP command '" + command + "'");
            pending.abandon(sent.id(), interrupted);
            throw interrupted;
        }
    }

    /**
     * Runs a command with a file descriptor attached (SCM_RIGHTS on the command's bytes), as
     * {@code getfd} and {@code add-fd} expect; QEMU keeps its own copy. Written by the same writer
     * as every other command, so it keeps their order. {@code fd} must stay open until this method
     * returns; it returns only once the writer no longer uses it, whatever the outcome.
     *
     * @throws QmpException as {@link #execute(String, Map, Duration)}, or if the descriptor cannot be
     *                      sent ({@link FdPassing#available()} is false, the socket failed)
     */
    public JsonNode executeWithFd(String command, Map<String, ?> arguments, int fd, Duration timeout) throws QmpException {
        if (!FdPassing.available()) {
            throw new QmpException(command, null, "QMP command '" + command + "' needs to pass a file descriptor, which is unavailable: "
                    + FdPassing.unavailableReason());
        }
        QmpWriter.FdWrite write = writer.withFd(fd, System.nanoTime() + timeout.toNanos());
        try {
            Pending sent = send(command, arguments, timeout, write);
            try {
                return sent.reply().get();
            } catch (ExecutionException e) {
                throw onCallerThread(command, e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                QmpException interrupted = new QmpException(command, null,
                        "interrupted while waiting for QMP command '" + command + "'");
                pending.abandon(sent.id(), interrupted);
                throw interrupted;
            }
        } finally {
            write.release();
        }
    }

    /**
     * Gives QEMU a copy of {@code socket}'s descriptor under {@code name} ({@code getfd}), for a later
     * {@code fd:<name>} URI on this same connection (QEMU looks names up in the current monitor).
     * The caller still owns {@code socket} and closes its copy when QEMU has taken over.
     */
    public void passFd(String name, SocketChannel socket) throws QmpException {
        int fd;
        try {
            fd = FdPassing.descriptor(socket);
        } catch (IOException e) {
            throw new QmpException("getfd", null, "cannot pass " + name + " to QEMU: " + e.getMessage());
        }
        executeWithFd("getfd", Map.of("fdname", name), fd, DEFAULT_TIMEOUT);
    }

    /**
     * Sends a command without waiting. The future completes with the command's {@code return} member,
     * or fails with a {@link QmpException} as {@link #execute(String, Map, Duration)} would throw it,
     * after at most {@link #DEFAULT_TIMEOUT}. Its callbacks never run on the connection's reader thread.
     */
    public CompletableFuture<JsonNode> executeAsync(String command, Map<String, ?> arguments) {
        return send(command, arguments, DEFAULT_TIMEOUT).reply();
    }

    /**
     * Ends the connection: commands still waiting fail, close listeners run. QEMU keeps running;
     * to stop it, execute {@code quit} first.
     */
    @Override
    public void close() {
        end(new Ending(false, "the client closed it"));
    }

    @Override
    public String toString() {
        return "QmpClient[" + socket + (isOpen() ? "" : ", closed") + "]";
    }

    private Pending send(String command, Map<String, ?> arguments, Duration timeout) {
        return send(command, arguments, timeout, null);
    }

    private Pending send(String command, Map<String, ?> arguments, Duration timeout, QmpWriter.FdWrite withFd) {
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(timeout, "timeout");
        ObjectNode message = QmpMessages.command(command, arguments);
        Pending sent = pending.register(command);
        if (sent == null) {
            return new Pending(-1, command, CompletableFuture.failedFuture(new QmpException(command, null,
                    "QMP command '" + command + "' not sent: the QMP connection to " + socket + " is closed ("
                            + ending.get().reason() + ")")));
        }
        pending.expireAfter(sent, timeout);
        byte[] line = QmpMessages.line(message, sent.id());
        writer.send(line, sent, withFd);
        return sent;
    }

    private void read() {
        try {
            MappingIterator<JsonNode> messages = QmpMessages.reader(Channels.newInputStream(channel));
            while (messages.hasNextValue()) {
                onMessage(messages.nextValue());
            }
            end(QEMU_CLOSED);
        } catch (JsonEOFException e) {
            // QEMU died halfway through a message: an exit, not a protocol violation.
            end(QEMU_CLOSED);
        } catch (JsonProcessingException e) {
            end(new Ending(false, "QEMU sent invalid JSON: " + e.getOriginalMessage()));
        } catch (IOException e) {
            // QEMU stops reading while it runs a command, so when quit makes it exit, the newline
            // after our quit is still unread and Linux reports "Connection reset" instead of end
            // of stream (after delivering everything QEMU wrote): an ordinary exit, not an error.
            LOG.debugf("Reading from QMP socket %s failed: %s", socket, e.getMessage());
            end(QEMU_CLOSED);
        } catch (RuntimeException e) {
            LOG.errorf(e, "QMP reader for %s failed", socket);
            end(new Ending(false, "the QMP reader failed: " + e));
        }
    }

    private void onMessage(JsonNode message) {
        if (!greeting.isDone()) {
            if (!QmpMessages.isGreeting(message)) {
                end(new Ending(false, "QEMU did not start with a QMP greeting but sent " + message));
                return;
            }
            greeting.complete(message);
        } else if (QmpMessages.isEvent(message)) {
            events.publish(QmpMessages.event(message));
        } else if (QmpMessages.replyId(message) != null) {
            pending.answer(QmpMessages.replyId(message), message);
        } else {
            // QEMU answers without an id only when it could not parse a command: a bug on our side.
            LOG.warnf("QMP message from %s matches no command: %s", socket, message);
        }
    }

    private void handshake(Duration timeout, long deadline) throws QmpException {
        try {
            version = QmpMessages.version(greeting.get(handshakeTime(deadline), TimeUnit.NANOSECONDS));
        } catch (TimeoutException e) {
            throw new QmpException(null, null, "connected to QMP socket " + socket + " but QEMU sent no greeting within "
                    + QmpMessages.describe(timeout) + "; QEMU serves one QMP client at a time: is another one connected?");
        } catch (ExecutionException e) {
            throw onCallerThread(null, e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QmpException(null, null, "interrupted while waiting for the QMP greeting on " + socket);
        }
        execute("qmp_capabilities", Map.of(), Duration.ofNanos(handshakeTime(deadline)));
    }

    private static long handshakeTime(long deadline) {
        return Math.max(deadline - System.nanoTime(), MIN_HANDSHAKE.toNanos());
    }

    private void end(Ending why) {
        if (!ending.compareAndSet(null, why)) {
            return;
        }
        LOG.debugf("QMP connection to %s ended: %s", socket, why.reason());
        writer.close();
        greeting.completeExceptionally(new QmpException(null, null,
                "QMP connection to " + socket + " ended before QEMU's greeting: " + why.reason()));
        for (Pending p : pending.close()) {
            if (why.byQemu() && "quit".equals(p.command())) {
                // QEMU may close the socket before its reply to quit gets out: the close is the answer.
                PendingCommands.succeed(p, QmpMessages.emptyReturn());
            } else if (why.byQemu()) {
                PendingCommands.fail(p, new QmpException(p.command(), null,
                        "QEMU closed the QMP connection while '" + p.command() + "' was pending"));
            } else {
                PendingCommands.fail(p, new QmpException(p.command(), null, "the QMP connection to " + socket
                        + " ended while '" + p.command() + "' was pending: " + why.reason()));
            }
        }
        events.end();
    }

    /** The failure as seen by the caller: same message and class, with the caller's stack trace. */
    private static QmpException onCallerThread(String command, Throwable failure) {
        if (failure instanceof QmpException q) {
            QmpException here = new QmpException(q.command(), q.errorClass(), q.getMessage());
            here.initCause(q);
            return here;
        }
        return new QmpException(command, "QMP command '" + command + "' failed: " + failure, failure);
    }
}
