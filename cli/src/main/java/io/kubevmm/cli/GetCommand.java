package io.kubevmm.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** {@code get KIND[,KIND...] [NAME]}: a table from the CRD's printer columns, or the objects as YAML/JSON. */
@Command(name = "get", description = "List objects of a kind (vm, vmi, vmnode, vmmig, vmsnap, vmrestore) or show one.")
final class GetCommand extends ClusterCommand {
    @Parameters(index = "0", paramLabel = "KIND", description = "vm, vmi, vmnode, vmmig, vmsnap or vmrestore (plural and kind names work too);"
            + " several separated by commas.")
    String kindNames;

    @Parameters(index = "1", arity = "0..1", paramLabel = "NAME", description = "Only this object.")
    String name;

    @Option(names = {"-A", "--all-namespaces"}, description = "List across all namespaces.")
    boolean allNamespaces;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", description = "wide, yaml or json.")
    String output;

    @Override
    public Integer call() {
        List<Kind> kinds = Arrays.stream(kindNames.split(",")).filter(k -> !k.isBlank()).map(Kind::parse).distinct().toList();
        if (output != null && !List.of("wide", "yaml", "json").contains(output)) {
            throw new CliException("unknown output format \"" + output + "\"; use wide, yaml or json");
        }
        if (name != null && kinds.size() != 1) {
            throw new CliException("give one kind with a NAME, e.g. kubevmm get vm " + name);
        }
        boolean document = "json".equals(output) || "yaml".equals(output);
        List<Map<String, Object>> all = new ArrayList<>();
        boolean printed = false;
        for (Kind kind : kinds) {
            List<Map<String, Object>> trees = fetch(kind);
            all.addAll(trees);
            if (!document && !trees.isEmpty()) {
                if (printed) {
                    out().println();
                }
                table(kind, trees, kinds.size() > 1).print(out());
                printed = true;
            }
        }
        if (document) {
            Object shown = name != null ? all.getFirst() : ObjectOutput.list(all);
            out().println("json".equals(output) ? ObjectOutput.json(shown) : ObjectOutput.yaml(shown).stripTrailing());
        } else if (!printed) {
            boolean clusterWide = allNamespaces || kinds.stream().noneMatch(Kind::namespaced);
            err().println("No resources found" + (clusterWide ? "" : " in " + namespace() + " namespace") + ".");
        }
        out().flush();
        err().flush();
        return 0;
    }

    private List<Map<String, Object>> fetch(Kind kind) {
        var objects = name != null
                ? List.of(objects().require(kind, namespace(), name))
                : objects().list(kind, allNamespaces ? null : namespace());
        return objects.stream().map(ClusterObjects::tree).toList();
    }

    /** With several kinds, names are qualified (virtualmachine.kubevmm.io/demo) as kubectl does. */
    private Table table(Kind kind, List<Map<String, Object>> trees, boolean qualifyNames) {
        boolean showNamespace = allNamespaces && kind.namespaced();
        List<PrinterColumns.Column> columns = PrinterColumns.of(kind, "wide".equals(output));
        List<String> header = new ArrayList<>();
        if (showNamespace) {
            header.add("NAMESPACE");
        }
        header.add("NAME");
        columns.forEach(c -> header.add(c.name().toUpperCase(Locale.ROOT)));
        Table table = new Table(header);
        Instant now = Instant.now();
        for (Map<String, Object> tree : trees) {
            List<String> row = new ArrayList<>();
            if (showNamespace) {
                row.add(JsonPath.string(tree, ".metadata.namespace"));
            }
            String objectName = JsonPath.string(tree, ".metadata.name");
            row.add(qualifyNames ? kind.ref(objectName) : objectName);
            for (PrinterColumns.Column c : columns) {
                String value = JsonPath.string(tree, c.jsonPath());
                row.add(c.isAge() ? Age.since(value, now) : value);
            }
            table.row(row);
        }
        return table;
    }
}
