package io.kubevmm.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code bin/kubevmm local} as it runs: plain java on this module's classes and its runtime
 * classpath (target/classpath.txt), which holds no node-runtime or operator class. Every command
 * must run there, on a cluster home of its own (a temporary repository root).
 */
class LauncherSystemTest {
    @TempDir
    Path repo;

    String launch(String... args) throws Exception {
        Path module = Path.of("").toAbsolutePath();
        String classpath = module.resolve("target/classes") + ":" + Files.readString(module.resolve("target/classpath.txt")).strip();
        List<String> cmd = new java.util.ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-Dkubevmm.repo.root=" + repo, "-cp", classpath, LocalClusterMain.class.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("local " + String.join(" ", args) + " said:\n" + out).isZero();
        return out;
    }

    @Test
    void statusAndAPurgingDownRunOnTheLaunchersOwnClasspath() throws Exception {
        Files.createDirectories(repo.resolve(".kubevmm/nodes/node-a/vms/default_web"));
        Files.writeString(repo.resolve(".kubevmm/nodes/node-a/vms/default_web/disk-data.qcow2"), "x");
        Files.createDirectories(repo.resolve(".kubevmm/control-plane/etcd"));
        assertThat(launch("status")).contains("qemu");
        String down = launch("down", "--purge");
        assertThat(down).contains("nothing was running", "removed its data");
        assertThat(repo.resolve(".kubevmm/nodes")).doesNotExist();
        assertThat(repo.resolve(".kubevmm/control-plane")).doesNotExist();
    }
}
