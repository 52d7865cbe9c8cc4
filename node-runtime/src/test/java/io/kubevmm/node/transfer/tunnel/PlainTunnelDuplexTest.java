package io.kubevmm.node.transfer.tunnel;

import javax.net.ssl.SSLContext;

/** The duplex contract over plain TCP, with as much data as a small guest's RAM. */
class PlainTunnelDuplexTest extends TunnelDuplexContract {

    @Override
    SSLContext targetTls() {
        return null;
    }

    @Override
    SSLContext sourceTls() {
        return null;
    }

    @Override
    long bulkBytes() {
        return 64L << 20;
    }
}
