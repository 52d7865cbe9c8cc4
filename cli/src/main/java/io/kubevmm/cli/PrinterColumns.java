package io.kubevmm.cli;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.kubevmm.api.v1alpha1.Crds;
import io.kubevmm.api.v1alpha1.Labels;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The table columns of {@code get}: the CRD's additionalPrinterColumns (what kubectl shows too),
 * plus a few spec columns for {@code -o wide}. The generated CRD lists the columns sorted by
 * jsonPath, so they are put back in the order the model class declares them (Age last).
 */
final class PrinterColumns {
    record Column(String name, String jsonPath, String type) {
        boolean isAge() {
            return "date".equals(type);
        }
    }

    /** Extra {@code -o wide} columns: what a user wants to see next to the phase. */
    private static final Map<Kind, List<Column>> WIDE = Map.of(
            Kind.VM, List.of(new Column("State", ".spec.state", "string"), new Column("Profile", ".spec.profile", "string"),
                    new Column("CPU", ".spec.cpu", "integer"), new Column("Memory", ".spec.memory", "string")),
            Kind.VMI, List.of(new Column("State", ".spec.state", "string"),
                    new Column("Memory", ".status.guestMemory", "string"), new Column("QEMU", ".status.qemuVersion", "string")),
            Kind.VMNODE, List.of(new Column("Endpoint", ".status.endpoint", "string"),
                    new Column("Unschedulable", ".spec.unschedulable", "boolean")));

    private static final Map<String, CustomResourceDefinition> CRDS = new ConcurrentHashMap<>();

    private PrinterColumns() { }

    static List<Column> of(Kind kind, boolean wide) {
        List<String> declared = Arrays.stream(kind.type.getAnnotationsByType(AdditionalPrinterColumn.class))
                .map(AdditionalPrinterColumn::name).toList();
        List<Column> columns = new ArrayList<>(crd(kind).getSpec().getVersions().stream()
                .filter(v -> Labels.VERSION.equals(v.getName())).findFirst().orElseThrow()
                .getAdditionalPrinterColumns().stream()
                .filter(c -> wide || c.getPriority() == null || c.getPriority() == 0)
                .sorted(Comparator.comparingInt((CustomResourceColumnDefinition c) -> rank(declared, c.getName())))
                .map(c -> new Column(c.getName(), c.getJsonPath(), c.getType()))
                .toList());
        if (wide) {
            int beforeAge = columns.isEmpty() || !columns.getLast().isAge() ? columns.size() : columns.size() - 1;
            columns.addAll(beforeAge, WIDE.getOrDefault(kind, List.of()));
        }
        return columns;
    }

    /** Position in the model's declaration order; columns only the CRD knows go before Age. */
    private static int rank(List<String> declared, String name) {
        int i = declared.indexOf(name);
        if (i >= 0) {
            return 2 * i;
        }
        boolean ageLast = !declared.isEmpty() && "Age".equals(declared.getLast());
        return ageLast ? 2 * declared.size() - 3 : 2 * declared.size();
    }

    /** The kind's CRD as packaged in the crds jar (what Crds.all() reads), parsed on first use only. */
    static CustomResourceDefinition crd(Kind kind) {
        return CRDS.computeIfAbsent(kind.plural(), plural -> {
            // One CRD instead of Crds.all(): a CLI run needs one kind, and parsing all six costs start-up time.
            try (InputStream in = Crds.class.getClassLoader().getResourceAsStream(Crds.resource(plural))) {
                if (in == null) {
                    throw new IllegalStateException(Crds.resource(plural) + " is missing from the crds jar; rebuild: mvn -pl crds install");
                }
                return Serialization.unmarshal(in, CustomResourceDefinition.class);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }
}
