package io.kubevmm.node.migration.tunnel;

import java.io.IOException;

/** The tunnel handshake failed for a stated reason (unknown migration, bad proof, ...). */
final class TunnelRefusedException extends IOException {
    TunnelRefusedException(String reason) {
        super(reason);
    }
}
