package io.kubevmm.api.status;

import io.fabric8.kubernetes.client.KubernetesClientException;

import java.time.Duration;
import java.util.function.Supplier;

/**
 * The one retry helper for writes to the Kubernetes API: a write that fails for a reason that may
 * pass (no answer, timeout, 409/429/5xx) is tried again with exponential backoff; one that cannot
 * succeed (400, 403, 404, 422) or still fails at the end is logged and thrown to the caller, which
 * reports it. Nothing is dropped silently.
 */
public final class ApiRetry {
    private static final System.Logger LOG = System.getLogger(ApiRetry.class.getName());
    /** Attempts and delays: 0.2 s, 0.4 s, ... capped at 5 s; about 20 s in all. */
    static final int ATTEMPTS = 7;
    private static final Duration FIRST_DELAY = Duration.ofMillis(200);
    private static final Duration MAX_DELAY = Duration.ofSeconds(5);

    private ApiRetry() { }

    /** Runs {@code write}, retrying it as described above; {@code what} names it in the log ("status of vmi default/a"). */
    public static <T> T write(String what, Supplier<T> write) {
        return write(what, write, FIRST_DELAY);
    }

    static <T> T write(String what, Supplier<T> write, Duration firstDelay) {
        KubernetesClientException last = null;
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            try {
                return write.get();
            } catch (KubernetesClientException e) {
                last = e;
                if (!retriable(e) || attempt == ATTEMPTS) {
                    break;
                }
                Duration delay = delay(firstDelay, attempt);
                LOG.log(System.Logger.Level.INFO, "writing the {0} failed ({1}); try {2} of {3} in {4} ms",
                        what, describe(e), attempt + 1, ATTEMPTS, delay.toMillis());
                try {
                    Thread.sleep(delay);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        LOG.log(System.Logger.Level.WARNING, "writing the {0} failed: {1}", what, describe(last));
        throw last;
    }

    /** Runs a write that returns nothing. */
    public static void run(String what, Runnable write) {
        write(what, () -> {
            write.run();
            return null;
        });
    }

    static Duration delay(Duration first, int attempt) {
        long millis = first.toMillis() << Math.min(attempt - 1, 10);
        return Duration.ofMillis(Math.min(millis, MAX_DELAY.toMillis()));
    }

    /** A failure that may pass: no HTTP answer at all (code 0), a conflict, throttling, or the server's own trouble. */
    static boolean retriable(KubernetesClientException e) {
        int code = e.getCode();
        return code == 0 || code == 409 || code == 429 || code >= 500;
    }

    private static String describe(KubernetesClientException e) {
        return (e.getCode() == 0 ? "" : "HTTP " + e.getCode() + ": ") + e.getMessage();
    }
}
