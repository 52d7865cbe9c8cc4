package io.kubevmm.node.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * A QMP server on a unix socket that speaks like QEMU 7.2 (CRLF after each message, the same
 * greeting) and does what the test scripts: commands with a script are answered at once; the
 * others wait in {@link #nextCommand()} for the test to answer, late, out of order or never.
 * It serves one client, as QEMU does.
 */
final class FakeQmpServer implements AutoCloseable {
    static final String GREETING = "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7},"
            + " \"package\": \"fake\"}, \"capabilities\": [\"oob\"]}}";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path socket;
    private final ServerSocketChannel server;
    private final boolean greet;
    private final Map<String, BiConsumer<FakeQmpServer, JsonNode>> scripts = new ConcurrentHashMap<>();
    private final List<JsonNode> received = new CopyOnWriteArrayList<>();
    private final BlockingQueue<JsonNode> unanswered = new LinkedBlockingQueue<>();
    private volatile SocketChannel client;

    private FakeQmpServer(Path socket, boolean greet) throws IOException {
        this.socket = socket;
        this.greet = greet;
        answer("qmp_capabilities", "{}");
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        Thread.ofVirtual().name("fake-qmp " + socket).start(this::serve);
    }

    /** A server that greets like QEMU and accepts qmp_capabilities. */
    static FakeQmpServer start(Path socket) throws IOException {
        return new FakeQmpServer(socket, true);
    }

    /** A server that accepts connections and never says a word, like QEMU towards a second client. */
    static FakeQmpServer startSilent(Path socket) throws IOException {
        return new FakeQmpServer(socket, false);
    }

    /** Answers every {@code command} with {@code {"return": resultJson}}. */
    FakeQmpServer answer(String command, String resultJson) {
        return on(command, (server, cmd) -> server.reply(cmd, resultJson));
    }

    /** Answers every {@code command} with QEMU's error shape. */
    FakeQmpServer fail(String command, String errorClass, String desc) {
        return on(command, (server, cmd) -> server.replyError(cmd, errorClass, desc));
    }

    /** Runs {@code script} for every {@code command} received, instead of queueing it. */
    FakeQmpServer on(String command, BiConsumer<FakeQmpServer, JsonNode> script) {
        scripts.put(command, script);
        return this;
    }

    /** The next command that has no script, as received; fails the test if none comes within 5 s. */
    JsonNode nextCommand() throws InterruptedException {
        JsonNode command = unanswered.poll(5, TimeUnit.SECONDS);
        if (command == null) {
            throw new AssertionError("the client sent no command within 5s; received so far: " + received);
        }
        return command;
    }

    /** Every command received, scripted or not, in order. */
    List<String> receivedCommands() {
        return received.stream().map(c -> c.path("execute").asText()).toList();
    }

    List<JsonNode> received() {
        return received;
    }

    void reply(JsonNode command, String resultJson) {
        send("{\"return\": " + resultJson + ", \"id\": " + command.get("id") + "}\r\n");
    }

    void replyError(JsonNode command, String errorClass, String desc) {
        send("{\"id\": " + command.get("id") + ", \"error\": {\"class\": \"" + errorClass + "\", \"desc\": \"" + desc + "\"}}\r\n");
    }

    void event(String name, String dataJson) {
        String data = dataJson == null ? "" : ", \"data\": " + dataJson;
        send("{\"timestamp\": {\"seconds\": 1700000000, \"microseconds\": 250000}, \"event\": \"" + name + "\"" + data + "}\r\n");
    }

    /** Writes raw bytes, for tests of how the client copes with the byte stream itself. */
    synchronized void send(String raw) {
        try {
            ByteBuffer bytes = ByteBuffer.wrap(raw.getBytes(StandardCharsets.UTF_8));
            while (bytes.hasRemaining()) {
                client.write(bytes);
            }
        } catch (IOException e) {
            throw new IllegalStateException("fake QMP server cannot write: " + e, e);
        }
    }

    /** Hangs up on the client, as QEMU does when it exits. */
    void disconnect() {
        try {
            client.close();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    boolean clientConnected() {
        return client != null;
    }

    @Override
    public void close() throws IOException {
        server.close();
        if (client != null) {
            client.close();
        }
        Files.deleteIfExists(socket);
    }

    private void serve() {
        try {
            client = server.accept();
            if (greet) {
                send(GREETING + "\r\n");
            }
            MappingIterator<JsonNode> commands = JSON.readerFor(JsonNode.class).readValues(Channels.newInputStream(client));
            while (commands.hasNextValue()) {
                JsonNode command = commands.nextValue();
                received.add(command);
                BiConsumer<FakeQmpServer, JsonNode> script = scripts.get(command.path("execute").asText());
                if (script != null) {
                    script.accept(this, command);
                } else {
                    unanswered.add(command);
                }
            }
        } catch (IOException | RuntimeException e) {
            // The test or the client closed the connection; the server has nothing more to do.
        }
    }
}
