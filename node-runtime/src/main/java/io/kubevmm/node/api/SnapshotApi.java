package io.kubevmm.node.api;

import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.snapshot.NodeSnapshots;
import io.kubevmm.node.snapshot.StoredSnapshot;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/**
 * Node-to-node transfer of snapshots (bearer token, like the rest of the API): another node
 * restoring or cloning from a snapshot stored here reads its manifest, then each artifact it
 * lists, and checks them against the manifest's checksums on its side.
 */
@Path("/api/v1/snapshots/{name}")
public class SnapshotApi {
    private final NodeSnapshots snapshots;

    SnapshotApi(NodeSnapshots snapshots) {
        this.snapshots = snapshots;
    }

    @GET
    @Path("/manifest")
    @Produces(MediaType.APPLICATION_JSON)
    public Response manifest(@PathParam("name") String name) throws EngineException {
        StoredSnapshot stored = find(name);
        return Response.ok(stored.dir().resolve("manifest.json").toFile()).build();
    }

    @GET
    @Path("/files/{file}")
    @Produces(MediaType.APPLICATION_OCTET_STREAM)
    public Response file(@PathParam("name") String name, @PathParam("file") String file) throws EngineException {
        StoredSnapshot stored = find(name);
        // Only what the manifest lists: no path reaches outside the snapshot's directory.
        var artifact = stored.manifest().artifacts().stream().filter(a -> a.file().equals(file)).findFirst()
                .orElseThrow(() -> new NotFoundException("snapshot " + name + " has no artifact " + file));
        return Response.ok(stored.dir().resolve(artifact.file()).toFile())
                .header("Content-Length", artifact.sizeBytes()).build();
    }

    private StoredSnapshot find(String name) throws EngineException {
        RequestNames.requireStoreName(name);
        return snapshots.snapshotter().store().find(name)
                .orElseThrow(() -> new NotFoundException("no snapshot " + name + " in this node's store"));
    }
}
