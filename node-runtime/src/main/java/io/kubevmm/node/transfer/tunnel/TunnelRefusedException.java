package io.kubevmm.node.transfer.tunnel;

import java.io.IOException;

/** The tunnel handshake failed for a stated reason (unknown migration, bad proof, ...). */
final class TunnelRefusedException extends IOException {
    private static final long serialVersionUID = 1L;

    TunnelRefusedException(String reason) {
        super(reason);
    }
}
