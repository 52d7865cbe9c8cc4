package io.kubevmm.node.api;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

/**
 * {@code GET /api/v1/namespaces/{namespace}/vms/{name}/portforward?port=N}, upgraded to a
 * WebSocket that carries one TCP connection to port N of the guest ({@code kubevmm port-forward},
 * {@code kubevmm ssh}). Behind the bearer token like every route ({@link BearerTokenFilter} runs
 * before the upgrade). The session is opened before the upgrade, so a refusal is a plain HTTP
 * answer (404, 400, 409, 429, 502, 503) with the reason as text; after it, see {@link WebSocketRelay}.
 */
@ApplicationScoped
public class PortForwardApi {
    private static final Logger LOG = Logger.getLogger(PortForwardApi.class);
    static final String PATH = "/api/v1/namespaces/:namespace/vms/:name/portforward";

    private final GuestForwards forwards;
    private final Vertx vertx;

    PortForwardApi(GuestForwards forwards, Vertx vertx) {
        this.forwards = forwards;
        this.vertx = vertx;
    }

    void routes(@Observes Router router) {
        router.get(PATH).handler(this::portForward);
    }

    private void portForward(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        String namespace = ctx.pathParam("namespace");
        String name = ctx.pathParam("name");
        if (!RequestNames.isNamespace(namespace) || !RequestNames.isName(name)) {
            refuse(ctx, 404, "no VM by that name: a namespace is a DNS label and a name a DNS subdomain");
            return;
        }
        if (!"websocket".equalsIgnoreCase(request.getHeader("Upgrade"))) {
            refuse(ctx, 400, "a port-forward is a WebSocket: send the upgrade headers (kubevmm port-forward does)");
            return;
        }
        int port;
        try {
            port = Integer.parseInt(request.getParam("port", ""));
        } catch (NumberFormatException e) {
            refuse(ctx, 400, "query parameter port must be the guest's TCP port (1-65535), got '" + request.getParam("port", "") + "'");
            return;
        }
        // Opening blocks (the VM's thread, QEMU, a TCP connect): not on the event loop. The request
        // stays paused meanwhile so its end is still there for the upgrade.
        request.pause();
        Context context = vertx.getOrCreateContext();
        Thread.ofVirtual().name("portforward-open " + namespace + "/" + name).start(() -> {
            GuestForwards.Session session;
            try {
                session = forwards.open(namespace, name, port);
            } catch (GuestForwards.Refused r) {
                context.runOnContext(v -> refuse(ctx, r.status, r.getMessage()));
                return;
            }
            String what = "VM " + session.vm + " port " + session.guestPort();
            context.runOnContext(v -> request.toWebSocket()
                    .onSuccess(ws -> new WebSocketRelay(ws, session.socket(), what, session, vertx, forwards.settings().idleTimeout()).start())
                    .onFailure(e -> {
                        LOG.infof("port-forward to %s refused: WebSocket upgrade failed: %s", what, e.getMessage());
                        session.close();
                    }));
        });
    }

    private static void refuse(RoutingContext ctx, int status, String message) {
        LOG.infof("port-forward %s from %s refused (%d): %s", ctx.request().path(), ctx.request().remoteAddress(), status, message);
        if (!ctx.response().ended()) {
            ctx.response().setStatusCode(status).putHeader("Content-Type", "text/plain").end(message + "\n");
        }
    }
}
