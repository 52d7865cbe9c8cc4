package io.kubevmm.node.qmp;

import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * Delivers one connection's events, then its end, on a single thread of its own: listeners see
 * events in QEMU's order, never on a caller's or the reader's thread, and may issue commands.
 */
final class EventDispatcher {
    private static final Logger LOG = Logger.getLogger(EventDispatcher.class);

    private final String connection;
    private final ExecutorService thread;
    private final List<Consumer<QmpEvent>> eventListeners = new CopyOnWriteArrayList<>();
    private final List<Runnable> closeListeners = new ArrayList<>();
    private boolean ended;

    EventDispatcher(String connection) {
        this.connection = connection;
        this.thread = Executors.newSingleThreadExecutor(Thread.ofVirtual().name("qmp-events " + connection).factory());
    }

    void addEventListener(Consumer<QmpEvent> listener) {
        eventListeners.add(listener);
    }

    /** Runs once when the connection ends; a listener added after the end still runs, on a thread of its own. */
    void addCloseListener(Runnable listener) {
        synchronized (this) {
            if (!ended) {
                closeListeners.add(listener);
                return;
            }
        }
        Thread.ofVirtual().name("qmp-closed " + connection).start(() -> runCloseListener(listener));
    }

    void publish(QmpEvent event) {
        try {
            thread.execute(() -> deliver(event));
        } catch (RejectedExecutionException e) {
            // close() raced with the reader: the client has already said goodbye, nobody expects this event.
            LOG.debugf("Dropping QMP event %s on %s after close", event.name(), connection);
        }
    }

    /** Queues the close listeners behind the events already published, so "closed" is never reported first. */
    void end() {
        List<Runnable> listeners;
        synchronized (this) {
            if (ended) {
                return;
            }
            ended = true;
            listeners = List.copyOf(closeListeners);
        }
        thread.execute(() -> listeners.forEach(this::runCloseListener));
        thread.shutdown();
    }

    private void deliver(QmpEvent event) {
        for (Consumer<QmpEvent> listener : eventListeners) {
            try {
                listener.accept(event);
            } catch (Exception | AssertionError e) {
                // One broken listener must not starve the others or stop later events.
                LOG.errorf(e, "QMP event listener failed on %s from %s", event.name(), connection);
            }
        }
    }

    private void runCloseListener(Runnable listener) {
        try {
            listener.run();
        } catch (Exception | AssertionError e) {
            LOG.errorf(e, "QMP close listener failed for %s", connection);
        }
    }
}
