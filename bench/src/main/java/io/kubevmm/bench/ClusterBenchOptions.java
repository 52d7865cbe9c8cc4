package io.kubevmm.bench;

import java.nio.file.Path;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * The command line of the benchmarks that run on a local cluster: {@code --runs N}, {@code --repo DIR}
 * and the integer options a benchmark adds of its own.
 */
record ClusterBenchOptions(int runs, Path repo) {

    static ClusterBenchOptions parse(String[] args, int defaultRuns) {
        return parse(args, defaultRuns, Map.of());
    }

    /** {@code extra}: option name (e.g. {@code --density}) to what takes its integer value. */
    static ClusterBenchOptions parse(String[] args, int defaultRuns, Map<String, IntConsumer> extra) {
        int runs = defaultRuns;
        Path repo = Path.of(".").toAbsolutePath().normalize();
        for (int i = 0; i < args.length; i++) {
            String option = args[i];
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + option + " needs a value (" + usage(extra) + ")");
            }
            switch (option) {
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--repo" -> repo = Path.of(args[++i]).toAbsolutePath().normalize();
                default -> {
                    IntConsumer takes = extra.get(option);
                    if (takes == null) {
                        throw new IllegalArgumentException("unknown option " + option + " (" + usage(extra) + ")");
                    }
                    takes.accept(Integer.parseInt(args[++i]));
                }
            }
        }
        return new ClusterBenchOptions(runs, repo);
    }

    private static String usage(Map<String, IntConsumer> extra) {
        StringBuilder s = new StringBuilder("use --runs N");
        extra.keySet().stream().sorted().forEach(o -> s.append(' ').append(o).append(" N"));
        return s.toString();
    }
}
