package io.kubevmm.node.transfer.tunnel;

import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/** A blocking socket channel (unix or plain TCP): the kernel copies straight from and to direct buffers. */
final class ChannelEnd implements TunnelEnd {
    private final SocketChannel channel;

    ChannelEnd(SocketChannel channel) {
        this.channel = channel;
    }

    SocketChannel channel() {
        return channel;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return channel.read(dst);
    }

    @Override
    public void writeFully(ByteBuffer src) throws IOException {
        while (src.hasRemaining()) {
            channel.write(src);
        }
    }

    @Override
    public void shutdownOutput() throws IOException {
        channel.shutdownOutput();
    }

    @Override
    public void abort() {
        try {
            if (channel.supportedOptions().contains(StandardSocketOptions.SO_LINGER)) {
                channel.setOption(StandardSocketOptions.SO_LINGER, 0);
            }
            channel.close();
        } catch (IOException e) {
            // Best effort: the descriptor is released either way.
        }
    }

    @Override
    public boolean prefersDirectBuffers() {
        return true;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
