package io.kubevmm.api.validation;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What a user-named file path (kernel, initrd, disk source) may look like before any node sees
 * it: a relative name inside the node's image directory. The node checks the rest for real
 * (symlinks, file type, the state dir and snapshot store) before it opens anything.
 *
 * <p>Each segment is a plain file name: letters, digits, {@code . _ + -}, not starting with
 * {@code .} or {@code -}. That keeps out absolute paths, {@code ..}, hidden files, option-like
 * names ({@code -b}) and characters that mean something inside QEMU option strings ({@code ,}
 * {@code =} {@code :}) or to a shell.
 */
public final class PathRules {
    /** Longest path accepted (and a file name segment at most 255, as on Linux file systems). */
    public static final int MAX_LENGTH = 1024;
    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9_+][A-Za-z0-9._+-]{0,254}");
    private static final String FIX = "give a file name relative to the node's image directory (example: base.qcow2)";

    private PathRules() { }

    /** Why {@code path} is not an acceptable image-directory name, or empty when it is. */
    public static Optional<String> problem(String path) {
        if (path == null || path.isBlank()) {
            return Optional.of("is empty; " + FIX);
        }
        String shown = "\"" + (path.length() > 80 ? path.substring(0, 80) + "..." : path) + "\"";
        if (path.length() > MAX_LENGTH) {
            return Optional.of(shown + " is longer than " + MAX_LENGTH + " characters; " + FIX);
        }
        if (path.startsWith("/")) {
            return Optional.of(shown + " is an absolute path; only files in the node's image directory can be used: " + FIX);
        }
        for (String segment : path.split("/", -1)) {
            if (segment.equals("..")) {
                return Optional.of(shown + " contains '..'; " + FIX);
            }
            if (!SEGMENT.matcher(segment).matches()) {
                return Optional.of(shown + " is not a plain relative file name (letters, digits, '.', '_', '+', '-'; "
                        + "no empty, hidden or '-'-leading parts); " + FIX);
            }
        }
        return Optional.empty();
    }

    /** Adds a {@link FieldError} for {@code field} when {@code path} breaks a rule. */
    static void check(String field, String path, java.util.List<FieldError> errors) {
        problem(path).ifPresent(message -> errors.add(new FieldError(field, message)));
    }
}
