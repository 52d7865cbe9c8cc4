package io.kubevmm.cli;

import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The subset of kubectl's JSONPath that printer columns use: {@code .a.b}, {@code [0]} and the
 * filter {@code [?(@.type=="Ready")]}. Returns the first match or null.
 */
final class JsonPath {
    private static final Pattern STEP = Pattern.compile(
            "\\.([A-Za-z0-9_\\-]+)|\\[(\\d+)]|\\[\\?\\(@\\.([A-Za-z0-9_\\-]+)\\s*==\\s*[\"']([^\"']*)[\"']\\)]");

    private JsonPath() { }

    static Object read(Object root, String path) {
        String p = path.startsWith("{") && path.endsWith("}") ? path.substring(1, path.length() - 1) : path;
        p = p.startsWith("$") ? p.substring(1) : p;
        p = p.startsWith(".") || p.startsWith("[") ? p : "." + p;
        Matcher m = STEP.matcher(p);
        Object current = root;
        int at = 0;
        while (at < p.length()) {
            if (!m.find(at) || m.start() != at) {
                throw new IllegalArgumentException("unsupported JSONPath " + path + " at \"" + p.substring(at) + "\"");
            }
            current = step(current, m);
            at = m.end();
            if (current == null) {
                return null;
            }
        }
        return current;
    }

    /** {@link #read} as text; null when the field is absent. */
    static String string(Object root, String path) {
        Object value = read(root, path);
        return value == null ? null : String.valueOf(value);
    }

    private static Object step(Object current, Matcher m) {
        if (m.group(1) != null) {
            return current instanceof Map<?, ?> map ? map.get(m.group(1)) : null;
        }
        if (m.group(2) != null) {
            int index = Integer.parseInt(m.group(2));
            return current instanceof List<?> list && index < list.size() ? list.get(index) : null;
        }
        if (current instanceof List<?> list) {
            for (Object item : list) {
                if (item instanceof Map<?, ?> map && m.group(4).equals(String.valueOf(map.get(m.group(3))))) {
                    return item;
                }
            }
        }
        return null;
    }
}
