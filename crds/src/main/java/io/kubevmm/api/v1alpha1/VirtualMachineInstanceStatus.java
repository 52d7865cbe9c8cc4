package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;

import java.util.List;

/** What the node runtime observed about the instance. Written only by the node runtime. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VirtualMachineInstanceStatus {
    @JsonPropertyDescription("Where the instance is: Pending, Creating, Stopped, Starting, Running, Suspending, Suspended, Resuming, Stopping, Succeeded or Failed.")
    private InstancePhase phase;
    @JsonPropertyDescription("Node running the instance.")
    private String nodeName;
    @JsonPropertyDescription("Process id of the instance's QEMU on its node.")
    private Long qemuPid;
    @JsonPropertyDescription("How guest code executes: kvm (hardware) or tcg (software emulation).")
    private String accelerator;
    @JsonPropertyDescription("Version of the QEMU running the instance.")
    private String qemuVersion;
    @JsonPropertyDescription("RAM actually given to QEMU; differs from spec.memory when a workaround pads it.")
    private String guestMemory;
    @JsonPropertyDescription("Emulator workarounds applied to this instance, and why.")
    private List<String> workarounds;
    @JsonPropertyDescription("When the machine was created (QEMU started, vCPUs halted).")
    private String createdTime;
    @JsonPropertyDescription("When vCPUs were last started from a fresh boot.")
    private String startedTime;
    @JsonPropertyDescription("When the guest printed its readiness pattern after the last start.")
    private String guestReadyTime;
    @JsonPropertyDescription("Milliseconds from start to guest ready.")
    private Long bootMillis;
    @JsonPropertyDescription("How often the guest was booted again after a power-off or crash.")
    private Integer restartCount;
    @JsonPropertyDescription("While a guest that keeps going down (crash loop, or power-off loop under restartPolicy Always) waits"
            + " for its next restart: when that restart happens (RFC 3339). Restarts in a row back off: the first at once, then"
            + " 10s doubling up to 5m; the count starts again after 10m up or a spec change. Condition Ready says RestartBackoff meanwhile.")
    private String nextRestartTime;
    @JsonPropertyDescription("While suspended to disk: the file holding the saved machine state.")
    private String suspendStateFile;
    @JsonPropertyDescription("Serial console log file on the node.")
    private String consoleLog;
    @JsonPropertyDescription("Downloaded base images (disks[].source.http) while the instance waits for them or one failed; absent once all are in the node's cache.")
    private List<ImageStatus> images;
    @JsonPropertyDescription("The guest as its qemu-guest-agent reports it (OS, host name, interfaces and addresses); absent while no agent is connected (condition AgentConnected says why).")
    private GuestStatus guest;
    @JsonPropertyDescription("Ready (guest booted), Paused (suspended, and how), Failure (last failure and its cause).")
    private List<Condition> conditions;
    @JsonPropertyDescription("metadata.generation this status reflects.")
    private Long observedGeneration;

    public InstancePhase getPhase() { return phase; }
    public void setPhase(InstancePhase phase) { this.phase = phase; }
    public String getNodeName() { return nodeName; }
    public void setNodeName(String nodeName) { this.nodeName = nodeName; }
    public Long getQemuPid() { return qemuPid; }
    public void setQemuPid(Long qemuPid) { this.qemuPid = qemuPid; }
    public String getAccelerator() { return accelerator; }
    public void setAccelerator(String accelerator) { this.accelerator = accelerator; }
    public String getQemuVersion() { return qemuVersion; }
    public void setQemuVersion(String qemuVersion) { this.qemuVersion = qemuVersion; }
    public String getGuestMemory() { return guestMemory; }
    public void setGuestMemory(String guestMemory) { this.guestMemory = guestMemory; }
    public List<String> getWorkarounds() { return workarounds; }
    public void setWorkarounds(List<String> workarounds) { this.workarounds = workarounds; }
    public String getCreatedTime() { return createdTime; }
    public void setCreatedTime(String createdTime) { this.createdTime = createdTime; }
    public String getStartedTime() { return startedTime; }
    public void setStartedTime(String startedTime) { this.startedTime = startedTime; }
    public String getGuestReadyTime() { return guestReadyTime; }
    public void setGuestReadyTime(String guestReadyTime) { this.guestReadyTime = guestReadyTime; }
    public Long getBootMillis() { return bootMillis; }
    public void setBootMillis(Long bootMillis) { this.bootMillis = bootMillis; }
    public Integer getRestartCount() { return restartCount; }
    public void setRestartCount(Integer restartCount) { this.restartCount = restartCount; }
    public String getNextRestartTime() { return nextRestartTime; }
    public void setNextRestartTime(String nextRestartTime) { this.nextRestartTime = nextRestartTime; }
    public String getSuspendStateFile() { return suspendStateFile; }
    public void setSuspendStateFile(String suspendStateFile) { this.suspendStateFile = suspendStateFile; }
    public String getConsoleLog() { return consoleLog; }
    public void setConsoleLog(String consoleLog) { this.consoleLog = consoleLog; }
    public List<ImageStatus> getImages() { return images; }
    public void setImages(List<ImageStatus> images) { this.images = images; }
    public GuestStatus getGuest() { return guest; }
    public void setGuest(GuestStatus guest) { this.guest = guest; }
    public List<Condition> getConditions() { return conditions; }
    public void setConditions(List<Condition> conditions) { this.conditions = conditions; }
    public Long getObservedGeneration() { return observedGeneration; }
    public void setObservedGeneration(Long observedGeneration) { this.observedGeneration = observedGeneration; }
}
