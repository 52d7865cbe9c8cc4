package io.kubevmm.cli;

import java.util.Locale;
import java.util.Map;
import io.kubevmm.api.status.ConditionTypes;

/**
 * What {@code wait --for} waits for: {@code phase=X}, {@code condition=C} (True),
 * {@code condition=C=False}, or {@code delete}. Pure: decides from one snapshot of the object.
 */
record WaitFor(String phase, String condition, String conditionStatus, boolean deletion) {
    static WaitFor parse(String text) {
        String[] parts = text.split("=", 3);
        String what = parts[0].toLowerCase(Locale.ROOT);
        if (what.equals("delete") && parts.length == 1) {
            return new WaitFor(null, null, null, true);
        }
        if (what.equals("phase") && parts.length == 2 && !parts[1].isBlank()) {
            return new WaitFor(parts[1], null, null, false);
        }
        if (what.equals("condition") && parts.length >= 2 && !parts[1].isBlank()) {
            String status = parts.length == 3 ? parts[2] : "True";
            if (!status.equalsIgnoreCase("True") && !status.equalsIgnoreCase("False") && !status.equalsIgnoreCase("Unknown")) {
                throw new CliException("--for " + text + ": a condition's status is True, False or Unknown");
            }
            return new WaitFor(null, parts[1], status, false);
        }
        throw new CliException("--for " + text + " is not understood; use phase=Running, condition=Ready, condition=Ready=False or delete");
    }

    /** Whether {@code object} (null: it does not exist) is what we wait for. */
    boolean isMet(Map<String, Object> object) {
        if (deletion) {
            return object == null;
        }
        if (object == null) {
            return false;
        }
        if (phase != null) {
            return phase.equalsIgnoreCase(String.valueOf(JsonPath.string(object, ".status.phase")));
        }
        return conditionStatus.equalsIgnoreCase(String.valueOf(conditionField(object, condition, "status")));
    }

    /** One line of progress: {@code phase Starting, Ready=False (Booting: waiting for the guest)}. */
    String describe(Map<String, Object> object) {
        if (object == null) {
            return "does not exist";
        }
        StringBuilder line = new StringBuilder("phase " + orNone(JsonPath.string(object, ".status.phase")));
        // The condition waited for is always shown; Ready too when the object has one, as it says why.
        String shown = condition != null ? condition : ConditionTypes.READY;
        appendCondition(line, object, shown, true);
        if (!shown.equals(ConditionTypes.READY)) {
            appendCondition(line, object, ConditionTypes.READY, false);
        }
        if (!shown.equals(ConditionTypes.FAILURE) && "True".equals(conditionField(object, ConditionTypes.FAILURE, "status"))) {
            appendCondition(line, object, ConditionTypes.FAILURE, false); // the node runtime's last error explains a stuck phase
        }
        return line.toString();
    }

    private static void appendCondition(StringBuilder line, Map<String, Object> object, String type, boolean evenIfUnset) {
        String status = conditionField(object, type, "status");
        if (status == null && !evenIfUnset) {
            return;
        }
        line.append(", ").append(type).append("=").append(status == null ? "<unset>" : status);
        String reason = conditionField(object, type, "reason");
        String message = conditionField(object, type, "message");
        if (reason != null || message != null) {
            line.append(" (").append(reason == null ? "" : reason)
                    .append(reason != null && message != null ? ": " : "").append(message == null ? "" : message).append(")");
        }
    }

    @Override
    public String toString() {
        return deletion ? "delete" : phase != null ? "phase=" + phase : "condition=" + condition + "=" + conditionStatus;
    }

    private static String conditionField(Map<String, Object> object, String type, String field) {
        return JsonPath.string(object, ".status.conditions[?(@.type==\"" + type + "\")]." + field);
    }

    private static String orNone(String s) {
        return s == null ? "<none>" : s;
    }
}
