package io.kubevmm.cli;

import io.fabric8.kubernetes.api.model.Event;

import java.io.PrintWriter;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Writes {@code describe} output in kubectl's shape: aligned "Label: value" lines, sections, tables. */
final class DescribeWriter {
    private static final int LABEL_WIDTH = 18;
    private final PrintWriter out;
    private final Instant now;

    DescribeWriter(PrintWriter out, Instant now) {
        this.out = out;
        this.now = now;
    }

    /** {@code Label:  value}, or {@code <none>} when the value is absent. */
    DescribeWriter line(int depth, String label, Object value) {
        String prefix = "  ".repeat(depth) + label + ":";
        String text = value == null || String.valueOf(value).isEmpty() ? "<none>" : String.valueOf(value);
        out.println(prefix + " ".repeat(Math.max(1, LABEL_WIDTH - prefix.length())) + text);
        return this;
    }

    /** Like {@link #line} but skipped when absent: for details only some objects have. */
    DescribeWriter optional(int depth, String label, Object value) {
        return value == null ? this : line(depth, label, value);
    }

    /** A list value: first item on the label's line, the others aligned below it. */
    DescribeWriter list(int depth, String label, Object value) {
        if (!(value instanceof List<?> items) || items.isEmpty()) {
            return this;
        }
        line(depth, label, items.getFirst());
        String indent = " ".repeat(Math.max(("  ".repeat(depth) + label + ":").length() + 1, LABEL_WIDTH));
        items.stream().skip(1).forEach(item -> out.println(indent + item));
        return this;
    }

    DescribeWriter heading(int depth, String label) {
        out.println("  ".repeat(depth) + label + ":");
        return this;
    }

    /** A nested value as indented YAML, for kinds without a tailored description. */
    DescribeWriter yaml(int depth, String label, Object value) {
        if (value == null || (value instanceof Map<?, ?> m && m.isEmpty())) {
            return line(depth, label, null);
        }
        heading(depth, label);
        String indent = "  ".repeat(depth + 1);
        ObjectOutput.yaml(value).lines().forEach(l -> out.println(indent + l));
        return this;
    }

    /** A timestamp with its age: {@code 2026-01-02T03:04:05Z (5m ago)}. */
    String time(String timestamp) {
        return timestamp == null ? null : timestamp + " (" + Age.since(timestamp, now) + " ago)";
    }

    DescribeWriter conditions(int depth, Object conditions) {
        if (!(conditions instanceof List<?> list) || list.isEmpty()) {
            return line(depth, "Conditions", null);
        }
        heading(depth, "Conditions");
        Table table = new Table("  ".repeat(depth + 1), List.of("TYPE", "STATUS", "REASON", "AGE", "MESSAGE"));
        for (Object c : list) {
            table.row(List.of(str(c, ".type"), str(c, ".status"), str(c, ".reason"),
                    Age.since(JsonPath.string(c, ".lastTransitionTime"), now), str(c, ".message")));
        }
        table.print(out);
        return this;
    }

    DescribeWriter events(List<Event> events) {
        if (events.isEmpty()) {
            return line(0, "Events", null);
        }
        heading(0, "Events");
        Table table = new Table("  ", List.of("TYPE", "REASON", "AGE", "FROM", "OBJECT", "MESSAGE"));
        for (Event e : events) {
            String age = Age.since(RecentEvents.lastTime(e), now);
            if (e.getCount() != null && e.getCount() > 1 && e.getFirstTimestamp() != null) {
                age += " (x" + e.getCount() + " over " + Age.since(e.getFirstTimestamp(), now) + ")";
            }
            String from = e.getSource() != null && e.getSource().getComponent() != null ? e.getSource().getComponent()
                    : e.getReportingComponent();
            String object = e.getInvolvedObject().getKind().toLowerCase(java.util.Locale.ROOT) + "/" + e.getInvolvedObject().getName();
            table.row(List.of(nz(e.getType()), nz(e.getReason()), age, nz(from), object, nz(e.getMessage())));
        }
        table.print(out);
        return this;
    }

    private static String str(Object tree, String path) {
        return nz(JsonPath.string(tree, path));
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }
}
