package io.kubevmm.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** A left-aligned text table with kubectl's spacing (three blanks between columns). */
final class Table {
    private final List<List<String>> rows = new ArrayList<>();
    private final String indent;

    Table(String indent, List<String> header) {
        this.indent = indent;
        rows.add(header);
    }

    Table(List<String> header) {
        this("", header);
    }

    Table row(List<String> cells) {
        rows.add(cells.stream().map(c -> c == null ? "" : c).toList());
        return this;
    }

    void print(PrintWriter out) {
        int columns = rows.get(0).size();
        int[] width = new int[columns];
        for (List<String> row : rows) {
            for (int i = 0; i < columns; i++) {
                width[i] = Math.max(width[i], row.get(i).length());
            }
        }
        for (List<String> row : rows) {
            StringBuilder line = new StringBuilder(indent);
            for (int i = 0; i < columns; i++) {
                line.append(row.get(i));
                if (i < columns - 1) {
                    line.append(" ".repeat(width[i] - row.get(i).length() + 3));
                }
            }
            out.println(line.toString().stripTrailing());
        }
        out.flush();
    }
}
