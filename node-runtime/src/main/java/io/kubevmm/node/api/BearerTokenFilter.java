package io.kubevmm.node.api;

import io.kubevmm.node.config.NodeConfig;
import io.quarkus.vertx.http.runtime.filters.Filters;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Every HTTP route of the node runtime (API, health, metrics) needs the node's bearer token.
 * Installed as a Vert.x filter so it also covers Quarkus' own endpoints under /q.
 */
@ApplicationScoped
public class BearerTokenFilter {
    private static final Logger LOG = Logger.getLogger(BearerTokenFilter.class);

    void install(@Observes Filters filters, NodeConfig config) {
        byte[] expected = ("Bearer " + config.apiToken()).getBytes(StandardCharsets.UTF_8);
        filters.register(ctx -> {
            String header = ctx.request().getHeader("Authorization");
            if (header != null && MessageDigest.isEqual(expected, header.getBytes(StandardCharsets.UTF_8))) {
                ctx.next();
                return;
            }
            LOG.debugf("refused %s %s from %s: %s", ctx.request().method(), ctx.request().path(),
                    ctx.request().remoteAddress(), header == null ? "no token" : "wrong token");
            ctx.response().setStatusCode(401)
                    .putHeader("WWW-Authenticate", "Bearer realm=\"kubevmm-node\"")
                    .putHeader("Content-Type", "text/plain")
                    .end("401 Unauthorized: send 'Authorization: Bearer <token>' with the node API token "
                            + "(kubevmm.node.api-token)\n");
        }, 10_000);
    }
}
