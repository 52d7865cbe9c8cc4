package io.kubevmm.node.snapshot;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Instant;

/**
 * Who and what a snapshot is of, recorded in its manifest.
 *
 * @param vmName    the VM ({@code namespace_name} on the node)
 * @param vmUid     the VM's uid
 * @param vmSpec    the VM's spec at this instant (any JSON; the reconciler passes the VMI spec)
 * @param type      Disk or FullState
 * @param createdAt the instant of the snapshot
 */
public record SnapshotDetails(String vmName, String vmUid, JsonNode vmSpec, SnapshotType type, Instant createdAt) { }
