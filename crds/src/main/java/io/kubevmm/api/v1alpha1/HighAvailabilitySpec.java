package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.ValidationRule;

/** How a VM survives the loss of its node. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "!has(self.checkpointIntervalSeconds) || (has(self.mode) && self.mode == 'Checkpoint')",
        message = "checkpointIntervalSeconds only applies with mode Checkpoint")
public class HighAvailabilitySpec {
    public enum Mode { None, Restart, Checkpoint }

    @Default("None")
    @JsonPropertyDescription("None: stays down with its node; Restart: boots again on another node; Checkpoint: resumes elsewhere from its latest checkpoint.")
    private Mode mode;
    @Min(1)
    @JsonPropertyDescription("Seconds between checkpoints (mode Checkpoint only).")
    private Integer checkpointIntervalSeconds;

    public Mode getMode() { return mode; }

    public void setMode(Mode mode) { this.mode = mode; }

    public Integer getCheckpointIntervalSeconds() { return checkpointIntervalSeconds; }

    public void setCheckpointIntervalSeconds(Integer seconds) { this.checkpointIntervalSeconds = seconds; }
}
