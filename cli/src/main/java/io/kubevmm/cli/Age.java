package io.kubevmm.cli;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/** Ages as kubectl prints them (its HumanDuration): 45s, 3m12s, 12m, 2h5m, 20h, 4d3h, 30d, 2y10d. */
final class Age {
    private Age() { }

    static String since(String timestamp, Instant now) {
        if (timestamp == null || timestamp.isBlank()) {
            return "<unknown>";
        }
        try {
            return of(Duration.between(Instant.parse(timestamp), now));
        } catch (DateTimeParseException e) {
            return "<invalid>";
        }
    }

    static String of(Duration d) {
        long s = d.toSeconds();
        if (s < -1) {
            return "<invalid>";
        }
        if (s < 0) {
            return "0s";
        }
        if (s < 120) {
            return s + "s";
        }
        long m = s / 60;
        if (m < 10) {
            return s % 60 == 0 ? m + "m" : m + "m" + (s % 60) + "s";
        }
        if (m < 180) {
            return m + "m";
        }
        long h = m / 60;
        if (h < 8) {
            return m % 60 == 0 ? h + "h" : h + "h" + (m % 60) + "m";
        }
        if (h < 48) {
            return h + "h";
        }
        if (h < 24 * 8) {
            return h % 24 == 0 ? (h / 24) + "d" : (h / 24) + "d" + (h % 24) + "h";
        }
        if (h < 24 * 365 * 2) {
            return (h / 24) + "d";
        }
        long days = h / 24;
        if (h < 24 * 365 * 8) {
            return days % 365 == 0 ? (days / 365) + "y" : (days / 365) + "y" + (days % 365) + "d";
        }
        return (days / 365) + "y";
    }
}
