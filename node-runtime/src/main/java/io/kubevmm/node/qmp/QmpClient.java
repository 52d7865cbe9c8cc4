package io.kubevmm.node.qmp;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A client for QEMU's Machine Protocol over a unix socket: greeting and capabilities handshake,
 * commands matched to replies by id (safe from many threads), events delivered in order on one
 * dispatcher thread.
 */
public final class QmpClient implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(QmpClient.class);
    private static final ObjectMapper JSON = new ObjectMapper().configure(JsonParser.Feature.AUTO_CLOSE_SOURCE, false);
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    private final SocketChannel channel;
    private final OutputStream out;
    private final MappingIterator<JsonNode> in;
    private final QemuVersion version;
    private final Map<String, Pending> pending = new ConcurrentHashMap<>();
    private final List<Consumer<QmpEvent>> eventListeners = new CopyOnWriteArrayList<>();
    private final List<Runnable> closeListeners = new CopyOnWriteArrayList<>();
    private final ExecutorService dispatcher;
    private final AtomicLong ids = new AtomicLong();
    private final AtomicBoolean open = new AtomicBoolean(true);
    private final Object writeLock = new Object();

    private record Pending(String command, CompletableFuture<JsonNode> reply) { }

    private QmpClient(SocketChannel channel, Path socket) throws IOException, QmpException {
        this.channel = channel;
        this.out = Channels.newOutputStream(channel);
        InputStream input = Channels.newInputStream(channel);
        this.in = JSON.readerFor(JsonNode.class).readValues(input);
        JsonNode greeting = in.hasNextValue() ? in.nextValue() : null;
        if (greeting == null || !greeting.has("QMP")) {
            throw new QmpException(null, null, "no QMP greeting on " + socket + " (got " + greeting + ")");
        }
        JsonNode v = greeting.path("QMP").path("version").path("qemu");
        this.version = new QemuVersion(v.path("major").asInt(), v.path("minor").asInt(), v.path("micro").asInt());
        String threadName = "qmp-" + socket.getParent().getFileName();
        this.dispatcher = Executors.newSingleThreadExecutor(Thread.ofVirtual().name(threadName + "-events").factory());
        Thread.ofVirtual().name(threadName + "-reader").start(this::readLoop);
    }

    /**
     * Connects to QEMU's QMP socket, reads the greeting and negotiates capabilities. Retries
     * until {@code timeout} while the socket does not accept yet (QEMU may still be starting).
     */
    public static QmpClient connect(Path socket, Duration timeout) throws QmpException {
        long deadline = System.nanoTime() + timeout.toNanos();
        IOException last = null;
        do {
            SocketChannel channel = null;
            try {
                channel = SocketChannel.open(StandardProtocolFamily.UNIX);
                channel.connect(UnixDomainSocketAddress.of(socket));
                QmpClient client = new QmpClient(channel, socket);
                client.execute("qmp_capabilities", Map.of(), timeout);
                return client;
            } catch (IOException e) {
                last = e;
                closeQuietly(channel);
                try {
                    Thread.sleep(10);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    break;
                }
            } catch (QmpException e) {
                closeQuietly(channel);
                throw e;
            }
        } while (System.nanoTime() < deadline);
        throw new QmpException(null, "cannot connect to QMP socket " + socket + " within " + timeout
                + (last == null ? "" : ": " + last.getMessage()), last);
    }

    public QemuVersion version() { return version; }

    public boolean isOpen() { return open.get(); }

    public void addEventListener(Consumer<QmpEvent> listener) { eventListeners.add(listener); }

    /** Runs once when the connection ends, whether QEMU exited or {@link #close()} was called. */
    public void addCloseListener(Runnable listener) {
        closeListeners.add(listener);
        if (!open.get()) {
            listener.run();
        }
    }

    public JsonNode execute(String command) throws QmpException {
        return execute(command, Map.of(), DEFAULT_TIMEOUT);
    }

    public JsonNode execute(String command, Map<String, ?> arguments) throws QmpException {
        return execute(command, arguments, DEFAULT_TIMEOUT);
    }

    public JsonNode execute(String command, Map<String, ?> arguments, Duration timeout) throws QmpException {
        try {
            return executeAsync(command, arguments).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new QmpException(command, null, "QMP command '" + command + "' timed out after " + pretty(timeout));
        } catch (ExecutionException e) {
            if (e.getCause() instanceof QmpException q) {
                throw q;
            }
            throw new QmpException(command, "QMP command '" + command + "' failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QmpException(command, "interrupted while waiting for QMP command '" + command + "'", e);
        }
    }

    public CompletableFuture<JsonNode> executeAsync(String command, Map<String, ?> arguments) {
        CompletableFuture<JsonNode> reply = new CompletableFuture<>();
        if (!open.get()) {
            reply.completeExceptionally(new QmpException(command, null,
                    "QMP command '" + command + "' not sent: the QMP connection is closed (QEMU exited?)"));
            return reply;
        }
        String id = Long.toString(ids.incrementAndGet());
        ObjectNode message = JSON.createObjectNode().put("execute", command).put("id", id);
        if (arguments != null && !arguments.isEmpty()) {
            message.set("arguments", JSON.valueToTree(arguments));
        }
        pending.put(id, new Pending(command, reply));
        // A late reply to a timed-out command finds nothing waiting and is dropped.
        reply.whenComplete((r, e) -> pending.remove(id));
        try {
            byte[] bytes = (JSON.writeValueAsString(message) + "\n").getBytes(StandardCharsets.UTF_8);
            synchronized (writeLock) {
                out.write(bytes);
                out.flush();
            }
        } catch (IOException e) {
            if ("quit".equals(command)) {
                reply.complete(JSON.createObjectNode());
            } else {
                reply.completeExceptionally(new QmpException(command, "cannot send QMP command '" + command + "': " + e.getMessage(), e));
            }
        }
        return reply;
    }

    private void readLoop() {
        try {
            while (in.hasNextValue()) {
                JsonNode message = in.nextValue();
                if (message.has("event")) {
                    QmpEvent event = new QmpEvent(message.path("event").asText(), message.path("data"), timestamp(message));
                    dispatcher.execute(() -> deliver(event));
                } else if (message.has("id")) {
                    Pending p = pending.get(message.path("id").asText());
                    if (p == null) {
                        continue;
                    }
                    if (message.has("error")) {
                        JsonNode error = message.path("error");
                        p.reply().completeExceptionally(new QmpException(p.command(), error.path("class").asText(),
                                "QMP command '" + p.command() + "' failed: " + error.path("class").asText() + ": "
                                        + error.path("desc").asText()));
                    } else {
                        p.reply().complete(message.path("return"));
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            if (open.get()) {
                LOG.debugf("QMP connection ended: %s", e.getMessage());
            }
        } finally {
            shutdown();
        }
    }

    private void deliver(QmpEvent event) {
        for (Consumer<QmpEvent> listener : eventListeners) {
            try {
                listener.accept(event);
            } catch (RuntimeException e) {
                LOG.errorf(e, "QMP event listener failed on %s", event.name());
            }
        }
    }

    private void shutdown() {
        if (!open.compareAndSet(true, false)) {
            return;
        }
        closeQuietly(channel);
        for (Pending p : pending.values()) {
            if ("quit".equals(p.command())) {
                p.reply().complete(JSON.createObjectNode()); // QEMU may close before replying to quit
            } else {
                p.reply().completeExceptionally(new QmpException(p.command(), null,
                        "QEMU closed the QMP connection while '" + p.command() + "' was pending"));
            }
        }
        // Close listeners run after queued events, so "exited" is never reported before the events that led to it.
        dispatcher.execute(() -> closeListeners.forEach(l -> {
            try {
                l.run();
            } catch (RuntimeException e) {
                LOG.errorf(e, "QMP close listener failed");
            }
        }));
        dispatcher.shutdown();
    }

    @Override
    public void close() {
        shutdown();
    }

    private static Instant timestamp(JsonNode message) {
        JsonNode ts = message.path("timestamp");
        return Instant.ofEpochSecond(ts.path("seconds").asLong(), ts.path("microseconds").asLong() * 1000);
    }

    private static String pretty(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }

    private static void closeQuietly(SocketChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // already closed
            }
        }
    }
}
