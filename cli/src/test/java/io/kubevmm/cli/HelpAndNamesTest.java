package io.kubevmm.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.SoftAssertions.assertSoftly;

class HelpAndNamesTest extends MockClusterTest {

    /** Every subcommand the CLI has, read from picocli's model so a new command is covered too. */
    private static List<String> commands() {
        return KubeVmm.commandLine(new KubeVmm(Environment.system())).getSubcommands().keySet().stream().toList();
    }

    @Test
    void everyCommandPrintsItsHelpWithDashDashHelpAndWithHelpCommand() {
        assertThat(commands()).contains("get", "delete", "stop", "migrate", "snapshot", "restore", "help");
        assertSoftly(softly -> {
            for (String command : commands()) {
                Run flag = kubevmm(command, "--help");
                softly.assertThat(flag.code()).as("kubevmm %s --help exit code (stderr: %s)", command, flag.err()).isZero();
                softly.assertThat(flag.out()).as("kubevmm %s --help", command).contains("Usage: kubevmm " + command);
                softly.assertThat(flag.err()).as("kubevmm %s --help stderr", command).isEmpty();

                Run help = kubevmm("help", command);
                softly.assertThat(help.code()).as("kubevmm help %s", command).isZero();
                softly.assertThat(help.out()).as("kubevmm help %s", command).contains("Usage: kubevmm " + command);
            }
        });
        Run root = kubevmm("--help");
        assertThat(root.code()).isZero();
        assertThat(root.out()).contains("Usage: kubevmm", "help", "kubevmm help COMMAND");
    }

    @Test
    void shortHelpFlagWorksOnACommandWithRequiredArguments() {
        Run run = kubevmm("migrate", "-h");

        assertThat(run.code()).isZero();
        assertThat(run.out()).contains("Usage: kubevmm migrate");
    }

    @Test
    void anInvalidNameIsReportedAsSuchNotAsAnUnreachableApi() {
        for (List<String> args : List.of(List.of("get", "vm", "my vm"), List.of("describe", "vm", "a/b"),
                List.of("start", "Bad_Name"), List.of("delete", "vm", "a b"), List.of("snapshot", "x y"),
                List.of("migrate", "x,y"))) {
            Run run = kubevmm(args.toArray(String[]::new));

            assertThat(run.code()).as(String.join(" ", args)).isEqualTo(1);
            assertThat(run.err()).as(String.join(" ", args))
                    .startsWith("error: invalid ")
                    .contains("name \"" + args.getLast() + "\"", "lowercase letters", "example: demo")
                    .doesNotContain("cannot reach");
        }
        Run namespace = kubevmm("-n", "Team A", "get", "vm");
        assertThat(namespace.err()).startsWith("error: invalid namespace \"Team A\"");
    }

    @Test
    void deleteWithAFileDeletesEveryObjectInIt() throws Exception {
        createVm("one");
        createVm("two");
        Path manifest = file("vms.yaml", vmYaml("one", "256Mi") + "---\n" + vmYaml("two", "256Mi"));

        Run run = kubevmm("delete", "-f", manifest.toString());

        assertThat(run.code()).isZero();
        assertThat(run.out()).isEqualTo("virtualmachine.kubevmm.io \"one\" deleted\nvirtualmachine.kubevmm.io \"two\" deleted\n");
        assertThat(vm("one")).isNull();
        assertThat(vm("two")).isNull();
    }

    @Test
    void deleteWithAFileGoesOnPastAMissingObjectAndFailsAtTheEnd() throws Exception {
        createVm("two");
        Path manifest = file("vms.yaml", vmYaml("one", "256Mi") + "---\n" + vmYaml("two", "256Mi"));

        Run run = kubevmm("delete", "-f", manifest.toString());

        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).isEqualTo("error: virtualmachine \"one\" not found in namespace default\n");
        assertThat(run.out()).isEqualTo("virtualmachine.kubevmm.io \"two\" deleted\n");
        assertThat(vm("two")).isNull();
    }

    @Test
    void deleteWithoutKindOrFileSaysWhatToGive() {
        Run run = kubevmm("delete");

        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).contains("give KIND NAME...", "-f FILE");
    }

    @Test
    void helpIsPicocliHelpCommand() {
        assertThat((Object) KubeVmm.commandLine(new KubeVmm(Environment.system())).getSubcommands().get("help").getCommand())
                .isInstanceOf(CommandLine.HelpCommand.class);
    }
}
