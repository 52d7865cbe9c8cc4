package io.kubevmm.api.validation;

import io.kubevmm.api.v1alpha1.DiskSource;
import io.kubevmm.api.v1alpha1.HttpSource;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What a disk's {@code source} may say: exactly one of a path in the node's image directory
 * ({@link PathRules}) or an HTTP(S) download with its sha256. A URL must be absolute http or
 * https with a host and no user name or password in it (those would be copied into status,
 * Events and logs); the node checks the rest (reachability, size, checksum) when it fetches.
 */
public final class SourceRules {
    private static final Pattern SHA256 = Pattern.compile(HttpSource.SHA256_PATTERN);
    private static final String URL_FIX = "give an http:// or https:// URL of the image (example: https://images.example/debian.qcow2)";

    private SourceRules() { }

    static void check(String at, DiskSource source, List<FieldError> errors) {
        boolean path = source.getPath() != null;
        boolean http = source.getHttp() != null;
        if (path && http) {
            errors.add(new FieldError(at, "has both path and http; give one: a file in the node's image directory or a download"));
        } else if (!path && !http) {
            errors.add(new FieldError(at, "needs path (a file in the node's image directory) or http (url and sha256 of a download)"));
        }
        if (path) {
            PathRules.check(at + ".path", source.getPath(), errors);
        }
        if (http) {
            HttpSource h = source.getHttp();
            urlProblem(h.getUrl()).ifPresent(p -> errors.add(new FieldError(at + ".http.url", p)));
            if (h.getSha256() == null || !SHA256.matcher(h.getSha256()).matches()) {
                errors.add(new FieldError(at + ".http.sha256", (h.getSha256() == null ? "is required"
                        : "\"" + shorten(h.getSha256()) + "\" is not a SHA-256") + "; give the image's 64 lowercase hex digits (sha256sum IMAGE)"));
            }
        }
    }

    /** Why {@code url} cannot be downloaded from, or empty when it can be tried. */
    public static Optional<String> urlProblem(String url) {
        if (url == null || url.isBlank()) {
            return Optional.of("is required; " + URL_FIX);
        }
        if (url.length() > HttpSource.MAX_URL) {
            return Optional.of("has " + url.length() + " characters, more than " + HttpSource.MAX_URL + "; " + URL_FIX);
        }
        if (url.chars().anyMatch(c -> c <= ' ' || c == 0x7f)) {
            return Optional.of("\"" + shorten(url) + "\" contains spaces or control characters; " + URL_FIX);
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            return Optional.of("\"" + shorten(url) + "\" is not a URL (" + e.getReason() + "); " + URL_FIX);
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            return Optional.of("\"" + shorten(url) + "\" is not an http or https URL; " + URL_FIX);
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            return Optional.of("\"" + shorten(url) + "\" names no host; " + URL_FIX);
        }
        if (uri.getRawUserInfo() != null) {
            return Optional.of("contains a user name or password; credentials in a URL would be copied into status, Events and logs: "
                    + "serve the image without them");
        }
        return Optional.empty();
    }

    private static String shorten(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "..." : s;
    }
}
