package io.kubevmm.node.config;

import io.kubevmm.api.validation.Quantities;
import io.kubevmm.node.config.NodeConfig;
import jakarta.enterprise.context.ApplicationScoped;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What this node offers to VMs: from configuration, else from the host less a reserve. */
@ApplicationScoped
public class NodeCapacity {
    private final int cpu;
    private final long memoryBytes;

    NodeCapacity(NodeConfig config) {
        this.cpu = config.capacity().cpu().orElse(Runtime.getRuntime().availableProcessors());
        this.memoryBytes = config.capacity().memory().map(Quantities::toBytes)
                .orElseGet(() -> Math.max(0, hostMemoryBytes() - Quantities.toBytes(config.capacity().reservedMemory())));
    }

    public int cpu() { return cpu; }

    public long memoryBytes() { return memoryBytes; }

    static long hostMemoryBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // fall through
        }
        return Runtime.getRuntime().maxMemory();
    }
}
