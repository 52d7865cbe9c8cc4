package io.kubevmm.node.lifecycle;

import io.kubevmm.api.v1alpha1.InstanceState;
import io.kubevmm.api.v1alpha1.RestartPolicy;
import io.kubevmm.api.v1alpha1.SuspendMode;
import io.kubevmm.node.console.ReadinessWatcher;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.testing.GuestConsole;
import io.kubevmm.node.testing.TestGuest;

import java.nio.file.Path;
import java.time.Duration;

/**
 * A stand-in node runtime process for the re-adoption test: runs one guest with the real
 * lifecycle code, prints its QEMU pid, and waits to be killed with SIGKILL.
 */
public final class RunnerProcessMain {
    public static void main(String[] args) throws Exception {
        VmConfig config = TestGuest.microvm(Path.of(args[0]), args[1], args[2]);
        VmRunner runner = new VmRunner(config, TestGuest.engine(), new ReadinessWatcher(), VmRunner.RunnerHooks.NONE);
        runner.adopt();
        runner.converge(config, new Lifecycle.Desired(InstanceState.Running, SuspendMode.Memory, RestartPolicy.Always),
                GuestConsole.READY, Duration.ofSeconds(10), 1);
        while (!runner.observe().ready()) {
            Thread.sleep(20);
        }
        System.out.println("QEMU-PID " + runner.observe().pid());
        System.out.flush();
        Thread.currentThread().join();
    }
}
