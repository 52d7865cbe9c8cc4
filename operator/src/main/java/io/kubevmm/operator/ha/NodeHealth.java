package io.kubevmm.operator.ha;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashMap;

/**
 * Reads node Leases for the HA decisions and writes the operator's fence mark on them
 * (annotation {@link #FENCED_ANNOTATION}): written only on the Lease version that showed the
 * node lost, so it can never hide a renewal, and honoured by the node runtime, which runs and
 * boots no highly available guest while its Lease carries it. The mark is what lets the operator
 * restart a VM elsewhere even if the node comes back meanwhile.
 */
@ApplicationScoped
public class NodeHealth {
    public static final String LEASE_PREFIX = "kubevmm-node-";
    /** Also named in the node runtime's NodeRegistration. */
    public static final String FENCED_ANNOTATION = "kubevmm.io/fenced-at";

    private final KubernetesClient client;
    private final String leaseNamespace;
    private final Duration margin;
    private final Clock clock;

    NodeHealth(KubernetesClient client,
               @ConfigProperty(name = "kubevmm.operator.lease-namespace", defaultValue = "kubevmm-system") String leaseNamespace,
               @ConfigProperty(name = "kubevmm.operator.ha.fence-margin", defaultValue = "2s") Duration margin) {
        this.client = client;
        this.leaseNamespace = leaseNamespace;
        this.margin = margin;
        this.clock = Clock.systemUTC();
    }

    public Instant now() { return clock.instant(); }

    /** How long after a Lease expired its node's Restart guests are provably stopped (docs/ha.md). */
    public Duration margin() { return margin; }

    public NodeLease lease(String node) {
        return view(node, client.leases().inNamespace(leaseNamespace).withName(LEASE_PREFIX + node).get());
    }

    static NodeLease view(String node, Lease lease) {
        if (lease == null || lease.getSpec() == null) {
            return NodeLease.missing(node);
        }
        var spec = lease.getSpec();
        Instant renewed = spec.getRenewTime() == null ? null : spec.getRenewTime().toInstant();
        Duration duration = spec.getLeaseDurationSeconds() == null ? NodeLease.DEFAULT_DURATION
                : Duration.ofSeconds(spec.getLeaseDurationSeconds());
        var annotations = lease.getMetadata().getAnnotations();
        Instant fencedAt = null;
        if (annotations != null && annotations.get(FENCED_ANNOTATION) != null) {
            try {
                fencedAt = Instant.parse(annotations.get(FENCED_ANNOTATION));
            } catch (DateTimeParseException e) {
                fencedAt = Instant.EPOCH; // marked all the same
            }
        }
        return new NodeLease(node, renewed, duration, fencedAt, lease.getMetadata().getResourceVersion());
    }

    /**
     * Marks the node's Lease fenced, on the version {@code seen} was read from: false when the
     * node renewed meanwhile (it is not lost after all) or the Lease changed otherwise.
     */
    public boolean markFenced(NodeLease seen, Instant at) {
        Lease lease = client.leases().inNamespace(leaseNamespace).withName(LEASE_PREFIX + seen.node()).get();
        if (lease == null || seen.version() == null || !seen.version().equals(lease.getMetadata().getResourceVersion())) {
            return false;
        }
        var annotations = lease.getMetadata().getAnnotations() == null ? new HashMap<String, String>()
                : new HashMap<>(lease.getMetadata().getAnnotations());
        annotations.put(FENCED_ANNOTATION, at.toString());
        lease.getMetadata().setAnnotations(annotations);
        try {
            client.leases().inNamespace(leaseNamespace).resource(lease).update(); // conditional on the version read
            return true;
        } catch (KubernetesClientException e) {
            if (e.getCode() == 409) {
                return false;
            }
            throw e;
        }
    }

    /** Removes the fence mark (conditional on the version read too: retried by the next pass). */
    public boolean removeFenceMark(String node) {
        Lease lease = client.leases().inNamespace(leaseNamespace).withName(LEASE_PREFIX + node).get();
        if (lease == null || lease.getMetadata().getAnnotations() == null
                || !lease.getMetadata().getAnnotations().containsKey(FENCED_ANNOTATION)) {
            return true;
        }
        var annotations = new HashMap<>(lease.getMetadata().getAnnotations());
        annotations.remove(FENCED_ANNOTATION);
        lease.getMetadata().setAnnotations(annotations);
        try {
            client.leases().inNamespace(leaseNamespace).resource(lease).update();
            return true;
        } catch (KubernetesClientException e) {
            if (e.getCode() == 409) {
                return false;
            }
            throw e;
        }
    }
}
