/**
 * Snapshots of this node's VMs: taking them, keeping them, restoring and cloning from them.
 *
 * <h2>API for the VMSnapshot / VMRestore reconcilers</h2>
 * <ul>
 *   <li>{@link io.kubevmm.node.snapshot.Snapshotter} — the one entry point:
 *     {@code snapshotDisks(name, runningInstance | stoppedConfig, details)},
 *     {@code snapshotFullState(name, runningInstance, details)},
 *     {@code restore(name, targetConfig)} (paused; call {@code resume()}),
 *     {@code delete(name, runningInstance, stoppedConfig)}.</li>
 *   <li>{@link io.kubevmm.node.snapshot.SnapshotStore} — the per-node directory:
 *     {@code list()}, {@code find/get(name)}, {@code verify(snapshot)},
 *     {@code cleanupIncomplete()} (call once at node-runtime start).</li>
 *   <li>{@link io.kubevmm.node.snapshot.StoredSnapshot} /
 *     {@link io.kubevmm.node.snapshot.SnapshotManifest} — what status reports:
 *     {@code sizeBytes}, {@code pauseMillis}, {@code durationMillis}, {@code createdAt}, disk
 *     chain, artifacts with SHA-256.</li>
 *   <li>{@link io.kubevmm.node.snapshot.SnapshotIntegrityException} — a missing, truncated or
 *     corrupt artifact; its message names the file (for a restore's {@code Failed} reason).</li>
 * </ul>
 *
 * <h2>On disk</h2>
 * <pre>
 * &lt;store&gt;/&lt;snapshot&gt;/manifest.json       written last, then the directory is renamed into place
 * &lt;store&gt;/&lt;snapshot&gt;/state.bin           FullState: QEMU's migration stream (background snapshot)
 * &lt;store&gt;/&lt;snapshot&gt;/disk-&lt;d&gt;[.n].qcow2   each disk's frozen chain, hard links to the VM's layers
 * &lt;store&gt;/.incomplete/...                 snapshots being written or deleted; never listed
 * &lt;vm state dir&gt;/disk-&lt;d&gt;.active          which layer of disk d the VM writes to now
 * </pre>
 *
 * <h2>Retention</h2>
 * A snapshot lives until deleted. Deleting its VM leaves it complete and restorable (its layers
 * are its own hard links). Deleting a snapshot folds the layers nothing else references into
 * the VM's active layer (block-stream while running, qemu-img rebase when stopped).
 *
 * <h2>Rollback, clone, other nodes</h2>
 * Rollback = {@code restore(name, sameVmConfig)} after destroying the VM's emulator; clone =
 * {@code restore(name, configWithNewIdStateDirAndMac)}, any number of times. For a restore on
 * another node, copy the snapshot directory into that node's store (the transfer is the
 * reconcilers'), then {@code restore} there: {@code verify} runs on every restore.
 *
 * <h2>Suspend to disk in the same format</h2>
 * {@code begin(name)} gives a {@link io.kubevmm.node.snapshot.PendingSnapshot} whose
 * {@code stateFile()} is where the machine state goes; a suspend can save there (or move
 * {@code VmmInstance.saveState()}'s file there), take {@code VmmEngine.snapshotDisks(config)}
 * once the process ended, and {@code complete(...)} with type FullState. Resume is then
 * {@code restore(name, config)}.
 */
package io.kubevmm.node.snapshot;
