package io.kubevmm.node.transfer.tunnel;

import java.io.IOException;
import java.net.Socket;
import java.net.SocketAddress;

/**
 * A connection between two node runtimes. The handshake talks through {@code socket}'s streams,
 * whose read timeout bounds it; once authenticated, the tunnelled bytes go through {@code data}.
 */
record PeerLink(TunnelEnd data, Socket socket) {

    SocketAddress remote() {
        return socket.getRemoteSocketAddress();
    }

    void closeQuietly() {
        try {
            data.close();
        } catch (IOException e) {
            // Best effort: the descriptor is released either way.
        }
    }
}
