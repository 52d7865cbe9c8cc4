package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;

/** A qcow2 disk kept in the VM's state directory on its node: empty, or an overlay on a base image. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "has(self.size) != has(self.source)",
        message = "a disk needs exactly one of size (a new empty disk) or source (an overlay on a base image)")
public class DiskSpec {
    /**
     * A DNS label of at most 32 characters starting with a letter (RFC 1035), so the name is also
     * a QEMU device id (those must start with a letter) and a file name.
     */
    public static final String NAME_PATTERN = "^[a-z]([-a-z0-9]{0,30}[a-z0-9])?$";

    @Required
    @Pattern(NAME_PATTERN)
    @JsonPropertyDescription("Disk name, a DNS label starting with a letter, unique within the VM (also the QEMU device id).")
    private String name;
    @Pattern(QuantityPattern.REGEX)
    @JsonPropertyDescription("Size of a new empty disk, a quantity such as 1Gi. Give either size or source.")
    private String size;
    @JsonPropertyDescription("Base image the disk is a copy-on-write overlay of (a file in the node's image directory, or a verified download); the base is never written.")
    private DiskSource source;
    @Min(1)
    @Max(MachineLimits.MAX_DISKS)
    @JsonPropertyDescription("With boot.firmware: the order the firmware tries disks in (1 first); disks without one come after. Unique within the VM.")
    private Integer bootOrder;

    public String getName() { return name; }

    public void setName(String name) { this.name = name; }

    public String getSize() { return size; }

    public void setSize(String size) { this.size = size; }

    public DiskSource getSource() { return source; }

    public void setSource(DiskSource source) { this.source = source; }

    public Integer getBootOrder() { return bootOrder; }

    public void setBootOrder(Integer bootOrder) { this.bootOrder = bootOrder; }
}
