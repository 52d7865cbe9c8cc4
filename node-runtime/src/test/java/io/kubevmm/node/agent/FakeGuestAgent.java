package io.kubevmm.node.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * qemu-guest-agent's side of the channel over a real unix socket, as QEMU relays it: answers
 * guest-sync-delimited (0xFF before the reply), the info queries and fsfreeze; guest-shutdown gets
 * no reply. {@code staleLine} is written first on every connection, as a previous client's late
 * reply would be; {@code silent} makes it read and never answer (a hung agent).
 */
public final class FakeGuestAgent implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    public final Path socket;
    public final List<String> commands = new CopyOnWriteArrayList<>();
    volatile String staleLine = "{\"return\": 4242}\n{\"retu";
    public volatile boolean silent;
    public volatile String frozen = "thawed";
    volatile String address = "10.0.2.15";
    /** Thaws fail this many times (a guest whose agent is busy), then work. */
    public volatile int failingThaws;
    private final ServerSocketChannel server;
    private volatile SocketChannel current;

    public FakeGuestAgent(Path socket) throws IOException {
        this.socket = socket;
        Files.deleteIfExists(socket);
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        Thread.ofVirtual().name("fake-agent").start(this::serve);
    }

    /** Drops the connection, as QEMU does when the agent in the guest stops. */
    void dropConnection() throws IOException {
        SocketChannel c = current;
        if (c != null) {
            c.close();
        }
    }

    private void serve() {
        while (server.isOpen()) {
            try (SocketChannel client = server.accept()) {
                current = client;
                OutputStream out = Channels.newOutputStream(client);
                out.write(staleLine.getBytes(StandardCharsets.UTF_8));
                out.flush();
                BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(client), StandardCharsets.UTF_8));
                String line;
                while ((line = in.readLine()) != null) {
                    line = line.replace("\u00ff", "").replace("\ufffd", "");
                    if (line.isBlank()) {
                        continue;
                    }
                    JsonNode command = JSON.readTree(line);
                    String name = command.path("execute").asText();
                    commands.add(name);
                    if (silent) {
                        continue;
                    }
                    String reply = reply(name, command.path("arguments"));
                    if (reply != null) {
                        if (name.equals("guest-sync-delimited")) {
                            out.write(0xFF);
                        }
                        out.write((reply + "\n").getBytes(StandardCharsets.UTF_8));
                        out.flush();
                    }
                }
            } catch (IOException e) {
                // connection ended; wait for the next client
            }
        }
    }

    private String reply(String name, JsonNode arguments) {
        return switch (name) {
            case "guest-sync-delimited" -> "{\"return\": " + arguments.path("id").asLong() + "}";
            case "guest-get-osinfo" -> "{\"return\": {\"name\": \"Debian GNU/Linux\", \"pretty-name\": \"Debian GNU/Linux 12 (bookworm)\","
                    + " \"version\": \"12 (bookworm)\", \"version-id\": \"12\", \"kernel-release\": \"6.1.0-27-cloud-amd64\"}}";
            case "guest-get-host-name" -> "{\"return\": {\"host-name\": \"deb\"}}";
            case "guest-network-get-interfaces" -> "{\"return\": [{\"name\": \"lo\", \"ip-addresses\": [{\"ip-address\": \"127.0.0.1\"}]},"
                    + " {\"name\": \"ens3\", \"hardware-address\": \"52:54:00:00:00:03\", \"ip-addresses\": ["
                    + "{\"ip-address-type\": \"ipv4\", \"ip-address\": \"" + address + "\", \"prefix\": 24},"
                    + "{\"ip-address-type\": \"ipv6\", \"ip-address\": \"fe80::5054:ff:fe00:3\", \"prefix\": 64}]}]}";
            case "guest-fsfreeze-freeze" -> {
                frozen = "frozen";
                yield "{\"return\": 2}";
            }
            case "guest-fsfreeze-thaw" -> {
                if (failingThaws > 0) {
                    failingThaws--;
                    yield "{\"error\": {\"class\": \"GenericError\", \"desc\": \"failed to thaw: Device or resource busy\"}}";
                }
                frozen = "thawed";
                yield "{\"return\": 2}";
            }
            case "guest-fsfreeze-status" -> "{\"return\": \"" + frozen + "\"}";
            case "guest-shutdown" -> null;
            default -> "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command " + name + " has not been found\"}}";
        };
    }

    @Override
    public void close() throws IOException {
        server.close();
        dropConnection();
        Files.deleteIfExists(socket);
    }
}
