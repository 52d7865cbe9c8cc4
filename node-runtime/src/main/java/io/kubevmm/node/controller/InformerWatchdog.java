package io.kubevmm.node.controller;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.javaoperatorsdk.operator.api.config.InformerStoppedHandler;
import io.quarkus.arc.Unremovable;
import io.quarkus.runtime.Quarkus;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

/**
 * Watches the health of every informer the operator-sdk runs in the node runtime (VMIs,
 * migrations, snapshots). A fabric8 informer whose watch fails with an error it does not retry
 * stops for good, and without a handler (the Quarkus extension installs none by default) the
 * node runtime would go on running deaf to every later object of that kind. An informer cannot
 * be started again once stopped, so the node runtime logs why and exits; its DaemonSet (or
 * whoever started it) restarts it, and it re-adopts the running guests.
 */
@ApplicationScoped
@Unremovable
public class InformerWatchdog implements InformerStoppedHandler {
    private static final Logger LOG = Logger.getLogger(InformerWatchdog.class);

    @Override
    @SuppressWarnings("rawtypes")
    public void onStop(SharedIndexInformer informer, Throwable cause) {
        String kind = informer.getApiTypeClass() == null ? "?" : HasMetadata.getFullResourceName(informer.getApiTypeClass());
        if (cause == null) {
            LOG.debugf("informer for %s stopped (shutdown)", kind);
            return;
        }
        LOG.errorf(cause, "the watch of %s stopped: %s; exiting so that a restart watches again"
                + " (a stopped watch would leave every later %s unseen)", kind, cause.getMessage(), kind);
        Quarkus.asyncExit(1);
    }
}
