package io.kubevmm.cli;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

/** Turns a failed API call into a message that says what happened and what to do next. */
final class ApiErrors {
    private ApiErrors() { }

    static String describe(KubernetesClientException e, KubernetesClient client) {
        String url = client == null ? "the configured server" : client.getConfiguration().getMasterUrl();
        if (e.getCode() <= 0) { // no HTTP answer at all
            return "cannot reach the Kubernetes API at " + url + " (" + reason(e) + "). " + ClusterConnection.START_LOCAL;
        }
        String status = e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage() : e.getMessage();
        return switch (e.getCode()) {
            case 401, 403 -> "the Kubernetes API at " + url + " refused the request (HTTP " + e.getCode() + ": " + status
                    + "); check the credentials in your kubeconfig";
            case 404 -> "not found: " + status + " (are the KubeVMM CRDs installed? kubectl apply -f crds/)";
            case 409 -> "conflict: " + status + " (someone changed the object meanwhile; run the command again)";
            default -> "the Kubernetes API at " + url + " answered HTTP " + e.getCode() + ": " + status;
        };
    }

    /** The innermost cause's message; a refused connection often has none, so name the class. */
    static String reason(Throwable e) {
        // A refused connection wraps the telling exception (unknown host, timeout) in a ConnectException.
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.net.UnknownHostException || t instanceof java.nio.channels.UnresolvedAddressException) {
                return "unknown host";
            }
            if (t instanceof java.net.http.HttpConnectTimeoutException || t instanceof java.net.SocketTimeoutException) {
                return "connection timed out";
            }
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.net.ConnectException) {
                return "connection refused";
            }
        }
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root.getMessage() != null && !root.getMessage().isBlank()) {
            return root.getMessage();
        }
        return root instanceof java.net.ConnectException ? "connection refused" : root.getClass().getSimpleName();
    }
}
