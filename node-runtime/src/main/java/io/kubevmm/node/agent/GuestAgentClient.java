package io.kubevmm.node.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A connection to qemu-guest-agent through the unix socket QEMU offers for the guest's
 * virtio-serial port. The protocol is QMP-like JSON without a greeting, events or ids: replies
 * come in the order of the commands, and whatever a previous client left unanswered may still
 * arrive. So every connection starts with {@code guest-sync-delimited}: a 0xFF byte (which makes
 * the agent drop any half-read input), a random id, and everything read is discarded until the
 * reply that carries that id (the agent puts a 0xFF before it, which ends any stale partial line
 * on our side too). After that, each command waits for the next reply, with a timeout.
 *
 * <p>One thread at a time: the caller ({@link GuestAgent}) serialises commands.
 */
public final class GuestAgentClient implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int DELIMITER = 0xFF;
    private static final JsonNode CLOSED = JSON.createObjectNode().put("closed", true);

    private final Path socket;
    private final SocketChannel channel;
    private final BlockingQueue<JsonNode> replies = new LinkedBlockingQueue<>();
    private volatile boolean open = true;
    /** A command timed out: its late reply may still come, so the next command syncs first. */
    private boolean needsSync;

    private GuestAgentClient(Path socket, SocketChannel channel) {
        this.socket = socket;
        this.channel = channel;
        Thread.ofVirtual().name("guest-agent-reader " + socket).start(this::readReplies);
    }

    /**
     * Connects and synchronises within {@code timeout}. Fails with {@link AgentException#noAnswer()}
     * when no agent answers: the socket is there but nobody reads the guest's end.
     */
    public static GuestAgentClient connect(Path socket, Duration timeout) throws AgentException {
        SocketChannel channel;
        try {
            channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            throw new AgentException("cannot connect to the guest agent socket " + socket + ": " + e.getMessage(), e);
        }
        GuestAgentClient client = new GuestAgentClient(socket, channel);
        try {
            client.sync(timeout);
            return client;
        } catch (AgentException e) {
            client.close();
            throw e;
        }
    }

    /** {@code guest-sync-delimited} with a fresh id; replies to anything sent before are dropped. */
    public void sync(Duration timeout) throws AgentException {
        long id = ThreadLocalRandom.current().nextLong(1, Integer.MAX_VALUE);
        replies.clear();
        ObjectNode command = JSON.createObjectNode().put("execute", "guest-sync-delimited");
        command.putObject("arguments").put("id", id);
        send(new byte[]{(byte) DELIMITER}, command);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            JsonNode reply = next("guest-sync-delimited", deadline, timeout);
            if (reply.path("return").asLong(-1) == id) {
                return;
            }
        }
    }

    /** Runs {@code command} and returns its {@code return} member; an {@code error} reply is an {@link AgentException}. */
    public JsonNode execute(String command, Map<String, ?> arguments, Duration timeout) throws AgentException {
        if (needsSync) {
            sync(timeout);
            needsSync = false;
        }
        send(new byte[0], message(command, arguments));
        JsonNode reply;
        try {
            reply = next(command, System.nanoTime() + timeout.toNanos(), timeout);
        } catch (AgentException e) {
            needsSync = true;
            throw e;
        }
        if (reply.has("error")) {
            JsonNode error = reply.get("error");
            throw new AgentException("guest agent command '" + command + "' failed: " + error.path("class").asText("Error")
                    + ": " + error.path("desc").asText(), false);
        }
        return reply.path("return");
    }

    /**
     * Sends a command the agent answers only when it fails ({@code guest-shutdown}: on success the
     * guest goes down instead). Waits {@code errorWindow} for an error reply.
     */
    public void executeWithoutReply(String command, Map<String, ?> arguments, Duration errorWindow) throws AgentException {
        send(new byte[0], message(command, arguments));
        try {
            JsonNode reply = replies.poll(errorWindow.toMillis(), TimeUnit.MILLISECONDS);
            if (reply != null && reply.has("error")) {
                throw new AgentException("guest agent command '" + command + "' failed: "
                        + reply.get("error").path("class").asText("Error") + ": " + reply.get("error").path("desc").asText(), false);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AgentException("interrupted while sending '" + command + "' to the guest agent", e);
        }
    }

    public boolean isOpen() {
        return open;
    }

    @Override
    public void close() {
        open = false;
        try {
            channel.close();
        } catch (IOException e) {
            // Best effort: the descriptor is released either way.
        }
    }

    private static ObjectNode message(String command, Map<String, ?> arguments) {
        ObjectNode message = JSON.createObjectNode().put("execute", command);
        if (arguments != null && !arguments.isEmpty()) {
            message.set("arguments", JSON.valueToTree(arguments));
        }
        return message;
    }

    private void send(byte[] prefix, ObjectNode message) throws AgentException {
        if (!open) {
            throw new AgentException("the guest agent channel " + socket + " is closed", true);
        }
        try {
            byte[] body = JSON.writeValueAsBytes(message);
            ByteBuffer buffer = ByteBuffer.allocate(prefix.length + body.length + 1).put(prefix).put(body).put((byte) '\n').flip();
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        } catch (IOException e) {
            close();
            throw new AgentException("cannot send '" + message.path("execute").asText() + "' to the guest agent: " + e.getMessage(), e);
        }
    }

    private JsonNode next(String command, long deadline, Duration timeout) throws AgentException {
        try {
            JsonNode reply = replies.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (reply == null) {
                throw new AgentException("the guest agent did not answer '" + command + "' within " + timeout.toMillis() + " ms", true);
            }
            if (reply == CLOSED) {
                replies.offer(CLOSED); // every later wait fails at once too
                throw new AgentException("the guest agent channel closed before '" + command + "' was answered", true);
            }
            return reply;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AgentException("interrupted while waiting for the guest agent to answer '" + command + "'", e);
        }
    }

    /**
     * Splits what the agent writes into lines; a 0xFF starts afresh (the agent sends it before a
     * delimited sync reply, so stale half lines never glue onto it). Lines that are not JSON
     * objects are dropped: a stale fragment, never a reply we wait for.
     */
    private void readReplies() {
        try (InputStream in = new java.io.BufferedInputStream(Channels.newInputStream(channel))) {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) != -1) {
                if (b == DELIMITER) {
                    line.reset();
                } else if (b == '\n') {
                    offer(line.toByteArray());
                    line.reset();
                } else {
                    line.write(b);
                }
            }
        } catch (IOException e) {
            // The channel ended (closed by us, by QEMU, or the guest end went away).
        } finally {
            open = false;
            replies.offer(CLOSED);
        }
    }

    private void offer(byte[] line) {
        try {
            JsonNode node = JSON.readTree(line);
            if (node != null && node.isObject()) {
                replies.offer(node);
            }
        } catch (IOException e) {
            // Not JSON: a fragment of something sent before our sync.
        }
    }
}
