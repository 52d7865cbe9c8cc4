package io.kubevmm.node.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Commands sent to QEMU and not yet answered, by id. Whoever removes a command from here (its reply,
 * its timeout, the end of the connection) is the one that completes it, so each completes exactly once.
 */
final class PendingCommands {
    private static final Logger LOG = Logger.getLogger(PendingCommands.class);

    // One timer thread for all connections: it only removes entries, it never waits on I/O.
    private static final ScheduledThreadPoolExecutor TIMERS = timers();

    // Replies are completed off the reader thread: a caller's thenApply(...) that issues another
    // command synchronously would otherwise block the only thread that can read its reply.
    private static final Executor CALLBACKS = task -> Thread.ofVirtual().name("qmp-reply").start(task);

    record Pending(long id, String command, CompletableFuture<JsonNode> reply) { }

    private final Map<Long, Pending> byId = new HashMap<>();
    private long lastId;
    private boolean closed;

    /** A new pending command with a fresh id, or null once the connection has ended. */
    synchronized Pending register(String command) {
        if (closed) {
            return null;
        }
        Pending pending = new Pending(++lastId, command, new CompletableFuture<>());
        byId.put(pending.id(), pending);
        return pending;
    }

    /** Fails the command with a timeout unless its reply arrives first. */
    void expireAfter(Pending pending, Duration timeout) {
        ScheduledFuture<?> timer = TIMERS.schedule(() -> abandon(pending.id(), new QmpException(pending.command(), null,
                "QMP command '" + pending.command() + "' timed out after " + QmpMessages.describe(timeout))),
                timeout.toNanos(), TimeUnit.NANOSECONDS);
        pending.reply().whenComplete((result, error) -> timer.cancel(false));
    }

    /** Routes QEMU's reply to the command with the same id; replies nobody waits for any more are dropped. */
    void answer(long id, JsonNode reply) {
        Pending pending = take(id);
        if (pending == null) {
            // The command timed out or its caller gave up; the reply is of no use to anyone now.
            LOG.debugf("Discarding late QMP reply to id %d", id);
            return;
        }
        JsonNode error = reply.get("error");
        if (error != null) {
            fail(pending, QmpMessages.error(pending.command(), error));
        } else {
            succeed(pending, reply.path("return"));
        }
    }

    /** Stops waiting for a command (timeout, interrupted caller, failed write); a later reply is dropped. */
    void abandon(long id, QmpException why) {
        Pending pending = take(id);
        if (pending != null) {
            fail(pending, why);
        }
    }

    /** Refuses new commands and hands back those still waiting, for the caller to settle. */
    synchronized List<Pending> close() {
        closed = true;
        List<Pending> waiting = new ArrayList<>(byId.values());
        waiting.sort((a, b) -> Long.compare(a.id(), b.id()));
        byId.clear();
        return waiting;
    }

    static void succeed(Pending pending, JsonNode result) {
        CALLBACKS.execute(() -> pending.reply().complete(result));
    }

    static void fail(Pending pending, QmpException why) {
        CALLBACKS.execute(() -> pending.reply().completeExceptionally(why));
    }

    private synchronized Pending take(long id) {
        return byId.remove(id);
    }

    private static ScheduledThreadPoolExecutor timers() {
        ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(1,
                Thread.ofPlatform().daemon().name("qmp-timeouts").factory());
        // Most commands answer long before their timeout; cancelled timers must not pile up.
        timers.setRemoveOnCancelPolicy(true);
        return timers;
    }
}
