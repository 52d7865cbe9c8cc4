package io.kubevmm.node.snapshot;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;

import java.time.Instant;
import java.util.List;

/**
 * {@code manifest.json} of a stored snapshot. File names are relative to the snapshot's
 * directory; every artifact named here has its size and SHA-256 in {@link #artifacts}.
 *
 * @param format         manifest format version (1)
 * @param name           the snapshot's name, also its directory name in the store
 * @param vmName         the VM it was taken of ({@code namespace_name} on the node)
 * @param vmUid          that VM's uid, so a restore can tell the same VM from a namesake
 * @param vmSpec         the VM's spec at the instant of the snapshot, as the caller gave it
 * @param type           Disk or FullState
 * @param disks          each disk's frozen qcow2 chain, top first
 * @param stateFile      the machine state (FullState only), else null
 * @param artifacts      every file of the snapshot with size and checksum
 * @param sizeBytes      sum of the artifacts' sizes
 * @param pauseMillis    how long the guest's vCPUs stood still for this snapshot
 * @param durationMillis from the request until every artifact was complete
 * @param createdAt      the instant the snapshot was taken
 * @param uefiVars       the UEFI variables as of the snapshot (a UEFI VM's), else null
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SnapshotManifest(
        int format,
        String name,
        String vmName,
        String vmUid,
        JsonNode vmSpec,
        SnapshotType type,
        List<DiskEntry> disks,
        String stateFile,
        List<Artifact> artifacts,
        long sizeBytes,
        long pauseMillis,
        long durationMillis,
        Instant createdAt,
        String uefiVars) {

    public static final int FORMAT = 1;

    /**
     * @param disk      disk name in the VM spec
     * @param layers    qcow2 files in the snapshot's directory, top (the disk as of the snapshot) first
     * @param baseImage the node-wide image under the bottom layer ({@code disks[].source}), not part of the snapshot
     */
    public record DiskEntry(String disk, List<String> layers, String baseImage) { }

    /** One file of the snapshot: what {@link SnapshotStore#verify} checks. */
    public record Artifact(String file, long sizeBytes, String sha256) { }

    public SnapshotManifest {
        disks = disks == null ? List.of() : List.copyOf(disks);
        artifacts = artifacts == null ? List.of() : List.copyOf(artifacts);
    }
}
