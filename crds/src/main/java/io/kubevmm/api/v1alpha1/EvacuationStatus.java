package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Progress of emptying a node ({@code spec.evacuate: true}), written by the operator. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class EvacuationStatus {
    public enum Phase { InProgress, Completed, Blocked }

    @JsonPropertyDescription("InProgress, Completed (the node runs no VM), or Blocked (a VM cannot move; see message).")
    private Phase phase;
    @JsonPropertyDescription("VMs still on the node.")
    private Integer remaining;
    @JsonPropertyDescription("VMs live-migrated away so far.")
    private Integer migrated;
    @JsonPropertyDescription("Stopped VMs rescheduled to other nodes so far.")
    private Integer rescheduled;
    @JsonPropertyDescription("Migrations of this evacuation that failed (each is retried).")
    private Integer failed;
    @JsonPropertyDescription("What is happening or what blocks it.")
    private String message;
    @JsonPropertyDescription("Which evacuation of the node this is (the VMNode's generation when it began); its migrations carry it in the label kubevmm.io/evacuation-id.")
    private String id;
    @JsonPropertyDescription("When the evacuation started.")
    private String startTime;
    @JsonPropertyDescription("When the node became empty.")
    private String completionTime;

    public Phase getPhase() { return phase; }
    public void setPhase(Phase phase) { this.phase = phase; }
    public Integer getRemaining() { return remaining; }
    public void setRemaining(Integer remaining) { this.remaining = remaining; }
    public Integer getMigrated() { return migrated; }
    public void setMigrated(Integer migrated) { this.migrated = migrated; }
    public Integer getRescheduled() { return rescheduled; }
    public void setRescheduled(Integer rescheduled) { this.rescheduled = rescheduled; }
    public Integer getFailed() { return failed; }
    public void setFailed(Integer failed) { this.failed = failed; }
    public String getMessage() { return message; }
    public void setMessage(String message) { this.message = message; }
    public String getId() { return id; }
    public void setId(String id) { this.id = id; }
    public String getStartTime() { return startTime; }
    public void setStartTime(String startTime) { this.startTime = startTime; }
    public String getCompletionTime() { return completionTime; }
    public void setCompletionTime(String completionTime) { this.completionTime = completionTime; }
}
