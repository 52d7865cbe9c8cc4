package io.kubevmm.operator.leaderelection;

import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfigurationBuilder;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.util.Optional;

/**
 * Leader election on Lease {@value #LEASE_NAME}: of several operator replicas only the holder
 * reconciles; the others keep their caches warm and take over when the Lease is not renewed.
 * A replica that loses the Lease exits (and is restarted) rather than reconcile beside a new leader.
 * Active in the profiles listed in {@code quarkus.operator-sdk.activate-leader-election-for-profiles}.
 */
@Singleton
public class OperatorLeaderElection {
    public static final String LEASE_NAME = "kubevmm-operator";

    /**
     * @param namespace the Lease's namespace: the operator's own (the chart sets it); outside a pod
     *                  there is no namespace to infer, so it is configured, never guessed
     * @param identity  this replica's name in {@code spec.holderIdentity}; the chart uses the pod
     *                  name. A restarted replica with the same identity resumes leading at once.
     *                  Unset: the HOSTNAME, else a random id.
     */
    @Produces
    @Singleton
    LeaderElectionConfiguration configuration(
            @ConfigProperty(name = "kubevmm.operator.lease-namespace") String namespace,
            @ConfigProperty(name = "kubevmm.operator.identity") Optional<String> identity) {
        LeaderElectionConfigurationBuilder builder = LeaderElectionConfigurationBuilder
                .aLeaderElectionConfiguration(LEASE_NAME)
                .withLeaseNamespace(namespace)
                .withExitOnStopLeading(true);
        identity.filter(id -> !id.isBlank()).ifPresent(builder::withIdentity);
        return builder.build();
    }
}
