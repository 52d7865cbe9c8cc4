/**
 * Fencing for highAvailability mode Restart (docs/ha.md): the invariant is at most one running
 * copy of a VM. A node runtime that cannot prove it holds its Lease (last successful renewal
 * older than {@code kubevmm.node.fence-after}, or the operator marked the Lease fenced) kills its
 * Restart guests and boots none; a guard process of its own session, which outlives the node
 * runtime, does the same from the heartbeat file the runtime writes after every renewal. The
 * operator starts a copy elsewhere only after the lease duration (longer than fence-after) plus a
 * margin has passed since the last renewal.
 */
package io.kubevmm.node.ha;
