package io.kubevmm.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code port-forward vm/NAME [LOCAL:]GUEST...}: listens on 127.0.0.1:LOCAL and carries each
 * connection to port GUEST of the guest through the node runtime's API (a WebSocket per
 * connection; nothing is opened on the node but loopback). {@code --stdio}: stdin and stdout are
 * the one connection (ssh's ProxyCommand).
 */
@Command(name = "port-forward", description = {"Forward local ports to ports of a VM's guest (through the node API).",
        "Listens on 127.0.0.1 only. The VM needs spec.network.mode: user."},
        footer = {"", "Examples:",
                "  kubevmm port-forward vm/web 8080:80   # 127.0.0.1:8080 is the guest's port 80",
                "  kubevmm port-forward vm/web :80       # any free local port (printed)",
                "  ssh -o ProxyCommand='kubevmm port-forward --stdio vm/web 22' user@web",
                "                                        # what kubevmm ssh does"})
final class PortForwardCommand extends ClusterCommand {
    @Parameters(index = "0", paramLabel = "vm/NAME", description = "The VM (vm/NAME or NAME).")
    String target;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "[LOCAL:]GUEST",
            description = "Local and guest port (8080:80), one port for both (22), or :GUEST for any free local port.")
    List<String> ports;

    @Option(names = "--stdio", description = "Use stdin and stdout as the connection to the one GUEST port (for ssh's ProxyCommand).")
    boolean stdio;

    @Override
    public Integer call() throws Exception {
        String name = VmTarget.parse(target, false).name();
        if (stdio) {
            if (ports.size() != 1) {
                throw new CliException("--stdio carries one connection: give one guest port (e.g. 22)");
            }
            return stdio(name, PortMapping.guestOnly(ports.get(0)));
        }
        List<PortMapping> mappings = ports.stream().map(PortMapping::parse).toList();
        NodeAccess.requireReachable(NodeAccess.locate(objects(), env(), namespace(), name), name); // now, not at the first connection
        List<ServerSocket> listeners = new ArrayList<>();
        try {
            for (PortMapping mapping : mappings) {
                ServerSocket listener = listen(mapping.local());
                listeners.add(listener);
                out().println("Forwarding from 127.0.0.1:" + listener.getLocalPort() + " -> " + mapping.guest());
            }
            out().flush();
            List<Thread> acceptors = new ArrayList<>();
            for (int i = 0; i < mappings.size(); i++) {
                ServerSocket listener = listeners.get(i);
                int guest = mappings.get(i).guest();
                acceptors.add(Thread.ofVirtual().name("portforward-accept " + listener.getLocalPort()).start(() -> accept(listener, name, guest)));
            }
            for (Thread acceptor : acceptors) {
                acceptor.join(); // until Ctrl-C
            }
            return 0;
        } finally {
            for (ServerSocket listener : listeners) {
                listener.close();
            }
        }
    }

    private static ServerSocket listen(int port) {
        try {
            return new ServerSocket(port, 50, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new CliException("cannot listen on 127.0.0.1:" + port + " (" + ApiErrors.reason(e) + "); pick another local port");
        }
    }

    private void accept(ServerSocket listener, String name, int guestPort) {
        while (!listener.isClosed()) {
            Socket connection;
            try {
                connection = listener.accept();
            } catch (IOException e) {
                return;
            }
            Thread.ofVirtual().name("portforward " + connection.getPort()).start(() -> carry(connection, name, guestPort));
        }
    }

    /** One accepted connection; the VM is looked up again each time, so a migrated VM is found on its new node. */
    private void carry(Socket connection, String name, int guestPort) {
        try {
            synchronized (this) {
                out().println("Handling connection for " + connection.getLocalPort());
                out().flush();
            }
            GuestTunnel tunnel = new GuestTunnel(NodeAccess.locate(objects(), env(), namespace(), name));
            GuestTunnel.Ending ending = tunnel.relay(namespace(), name, guestPort, socketEnd(connection));
            if (!ending.clean()) {
                report("connection for " + connection.getLocalPort() + " ended: " + ending.reason() + " (" + ending.code() + ")");
            }
        } catch (CliException e) {
            report(e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            try {
                connection.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }

    private synchronized void report(String message) {
        err().println("error: " + message);
        err().flush();
    }

    /** stdin and stdout as one connection; exit code 0 when both directions ended cleanly. */
    private int stdio(String name, int guestPort) throws InterruptedException {
        NodeAccess.VmNode at = NodeAccess.locate(objects(), env(), namespace(), name);
        NodeAccess.requireReachable(at, name);
        GuestTunnel tunnel = new GuestTunnel(at);
        // The raw descriptors: System.out is a PrintStream that would swallow write errors.
        InputStream stdin = new FileInputStream(FileDescriptor.in);
        OutputStream stdout = new FileOutputStream(FileDescriptor.out);
        GuestTunnel.Ending ending = tunnel.relay(namespace(), name, guestPort, new GuestTunnel.LocalEnd() {
            @Override public InputStream in() { return stdin; }

            @Override public OutputStream out() { return stdout; }

            @Override public void endOutput() throws IOException { stdout.close(); }

            @Override public void close() {
                try {
                    stdout.close();
                } catch (IOException ignored) {
                    // closing
                }
            }
        });
        if (ending.clean()) {
            return 0;
        }
        throw new CliException("port-forward to " + name + " port " + guestPort + " ended: " + ending.reason());
    }

    static GuestTunnel.LocalEnd socketEnd(Socket socket) {
        return new GuestTunnel.LocalEnd() {
            @Override public InputStream in() throws IOException { return socket.getInputStream(); }

            @Override public OutputStream out() throws IOException { return socket.getOutputStream(); }

            @Override public void endOutput() throws IOException { socket.shutdownOutput(); }

            @Override public void close() {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // closing
                }
            }
        };
    }
}
