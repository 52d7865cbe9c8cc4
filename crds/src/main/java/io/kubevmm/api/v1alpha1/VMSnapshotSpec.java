package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Required;

/** A request to snapshot one VM. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VMSnapshotSpec extends LenientSpec {
    public enum Type { Disk, FullState }

    @Required
    @JsonPropertyDescription("Name of the VirtualMachine to snapshot (same namespace).")
    private String vmName;
    @Default(SpecDefaults.SNAPSHOT_TYPE)
    @JsonPropertyDescription("Disk: crash-consistent copy-on-write disk snapshot, the VM keeps running. FullState: memory, vCPU and device state and disks at one instant.")
    private Type type;

    public String getVmName() { return vmName; }
    public void setVmName(String vmName) { this.vmName = vmName; }
    public Type getType() { return type; }
    public void setType(Type type) { this.type = type; }
}
