package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** How the node tells that the guest finished booting. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ReadinessSpec {
    @JsonPropertyDescription("The VM is Ready once its serial console prints this text (plain substring). Unset: Ready as soon as it runs.")
    private String serialPattern;

    public String getSerialPattern() { return serialPattern; }

    public void setSerialPattern(String serialPattern) { this.serialPattern = serialPattern; }
}
