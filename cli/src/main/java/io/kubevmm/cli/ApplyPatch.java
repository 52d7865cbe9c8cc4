package io.kubevmm.cli;

import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * kubectl's client-side apply as a JSON merge patch: set what the manifest says where the live
 * object differs, and delete what the previously applied manifest had but this one drops.
 * Fields nobody applied (server defaults, status) are left alone, so re-applying the same file
 * is {@code unchanged}.
 */
final class ApplyPatch {
    /** Where the applied manifest is kept, under kubectl's key so kubectl apply can take over. */
    static final String LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

    private ApplyPatch() { }

    /** The patch turning {@code live} into what {@code desired} asks; empty when nothing changes. */
    static Map<String, Object> compute(Map<String, Object> lastApplied, Map<String, Object> live, Map<String, Object> desired) {
        return threeWay(appliedPart(lastApplied), appliedPart(live), appliedPart(desired));
    }

    /** The parts apply owns: everything but status and server-written metadata. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> appliedPart(Map<String, Object> object) {
        if (object == null) {
            return null;
        }
        Map<String, Object> part = new LinkedHashMap<>(object);
        part.remove("apiVersion");
        part.remove("kind");
        part.remove("status");
        Map<String, Object> metadata = (Map<String, Object>) object.getOrDefault("metadata", Map.of());
        Map<String, Object> meta = new LinkedHashMap<>();
        if (metadata.get("labels") != null) {
            meta.put("labels", metadata.get("labels"));
        }
        if (metadata.get("annotations") instanceof Map<?, ?> annotations) {
            Map<String, Object> kept = new LinkedHashMap<>((Map<String, Object>) annotations);
            kept.remove(LAST_APPLIED);
            if (!kept.isEmpty()) {
                meta.put("annotations", kept);
            }
        }
        part.put("metadata", meta);
        return part;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> threeWay(Map<String, Object> last, Map<String, Object> live, Map<String, Object> desired) {
        Map<String, Object> patch = new LinkedHashMap<>();
        Map<String, Object> current = live == null ? Map.of() : live;
        desired.forEach((key, want) -> {
            Object have = current.get(key);
            if (want instanceof Map<?, ?> wantMap && have instanceof Map<?, ?> haveMap) {
                Object before = last == null ? null : last.get(key);
                Map<String, Object> sub = threeWay(before instanceof Map<?, ?> m ? (Map<String, Object>) m : null,
                        (Map<String, Object>) haveMap, (Map<String, Object>) wantMap);
                if (!sub.isEmpty()) {
                    patch.put(key, sub);
                }
            } else if (!same(want, have)) {
                patch.put(key, want);
            }
        });
        if (last != null) {
            last.keySet().stream()
                    .filter(key -> !desired.containsKey(key) && current.containsKey(key))
                    .forEach(key -> patch.put(key, null));
        }
        return patch;
    }

    /** Equal as JSON values: 1 and 1L and 1.0 are the same number. */
    static boolean same(Object a, Object b) {
        if (a instanceof Number x && b instanceof Number y) {
            return new BigDecimal(x.toString()).compareTo(new BigDecimal(y.toString())) == 0;
        }
        if (a instanceof Map<?, ?> x && b instanceof Map<?, ?> y) {
            return x.size() == y.size() && x.entrySet().stream()
                    .allMatch(e -> y.containsKey(e.getKey()) && same(e.getValue(), y.get(e.getKey())));
        }
        if (a instanceof List<?> x && b instanceof List<?> y) {
            if (x.size() != y.size()) {
                return false;
            }
            for (int i = 0; i < x.size(); i++) {
                if (!same(x.get(i), y.get(i))) {
                    return false;
                }
            }
            return true;
        }
        return Objects.equals(a, b);
    }
}
