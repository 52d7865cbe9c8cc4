package io.kubevmm.node.controller;

import io.kubevmm.api.status.ConditionTypes;
import io.kubevmm.api.v1alpha1.ImageStatus;
import io.kubevmm.api.v1alpha1.InstancePhase;
import io.kubevmm.api.v1alpha1.VirtualMachineInstance;
import io.kubevmm.api.v1alpha1.VirtualMachineInstanceStatus;
import io.kubevmm.api.status.Conditions;
import io.kubevmm.api.validation.Quantities;
import io.kubevmm.node.images.ImageState;
import io.kubevmm.node.images.ImagesNotReady;
import io.kubevmm.node.lifecycle.MachineState;
import io.kubevmm.node.lifecycle.VmObservation;
import io.kubevmm.node.lifecycle.VmObservation.Failure;

import java.time.Instant;
import java.util.List;

/**
 * Computes a VMI's status from what the node observed. The only place VMI status is built;
 * pure, so each condition's wording is unit-testable.
 */
final class VmiStatusFactory {

    /** Facts about the node and the emulator that go into every VMI status. */
    record NodeFacts(String nodeName, String accelerator, String qemuVersion) { }

    /** What the emulator will give this guest, which may differ from the spec (workarounds). */
    record Sizing(long guestMemoryBytes, List<String> workarounds) { }

    private VmiStatusFactory() { }

    static VirtualMachineInstanceStatus fromObservation(VirtualMachineInstance vmi, VmObservation obs, NodeFacts node, Sizing sizing) {
        VirtualMachineInstanceStatus previous = vmi.getStatus();
        VirtualMachineInstanceStatus s = base(vmi, node);
        // An emulator that does not answer is in whatever phase it was last seen in; the Failure condition says why.
        s.setPhase(obs.machine() == MachineState.UNREACHABLE && previous != null && previous.getPhase() != null
                ? previous.getPhase() : obs.phase());
        s.setQemuPid(obs.pid());
        s.setGuestMemory(Quantities.format(sizing.guestMemoryBytes()));
        s.setWorkarounds(sizing.workarounds().isEmpty() ? null : sizing.workarounds());
        s.setCreatedTime(time(obs.createdTime()));
        s.setStartedTime(time(obs.startedTime()));
        s.setGuestReadyTime(time(obs.guestReadyTime()));
        s.setBootMillis(obs.bootMillis());
        s.setRestartCount(obs.restartCount());
        s.setNextRestartTime(obs.restartWait() == null ? null : time(obs.restartWait().at()));
        s.setSuspendStateFile(obs.suspendStateFile() == null ? null : obs.suspendStateFile().toString());
        s.setConsoleLog(obs.consoleLog() == null ? null : obs.consoleLog().toString());

        Conditions c = new Conditions(previous == null ? null : previous.getConditions(), generation(vmi));
        if (obs.ready()) {
            c.set(ConditionTypes.READY, true, "GuestReady", obs.bootMillis() == null
                    ? "guest is running" : "guest reported ready " + obs.bootMillis() + " ms after start");
        } else {
            c.set(ConditionTypes.READY, false, notReadyReason(obs), notReadyMessage(obs));
        }
        boolean paused = obs.machine() == MachineState.PAUSED || obs.machine() == MachineState.SAVED_TO_DISK;
        c.set(ConditionTypes.PAUSED, paused, paused ? (obs.machine() == MachineState.SAVED_TO_DISK ? "SuspendedToDisk" : "SuspendedToMemory") : "NotPaused",
                !paused ? "vCPUs are not paused"
                        : obs.machine() == MachineState.SAVED_TO_DISK ? "full state saved to " + obs.suspendStateFile() + "; memory freed"
                        : "vCPUs paused; memory kept in place");
        var agent = obs.agent();
        c.set(ConditionTypes.AGENT_CONNECTED, agent.connected(), agent.reason(), agent.message());
        s.setGuest(agent.connected() ? guest(agent.info()) : null);
        Failure f = obs.lastFailure();
        c.set(ConditionTypes.FAILURE, f != null, f == null ? "NoFailure" : f.reason(), f == null ? "no failure" : f.message());
        s.setConditions(c.build());
        return s;
    }

    /** Status for a VMI this node refuses to run (bad spec, no room): nothing is started. */
    static VirtualMachineInstanceStatus rejected(VirtualMachineInstance vmi, NodeFacts node, String reason, String message) {
        VirtualMachineInstanceStatus previous = vmi.getStatus();
        VirtualMachineInstanceStatus s = base(vmi, node);
        s.setPhase(InstancePhase.Failed);
        Conditions c = new Conditions(previous == null ? null : previous.getConditions(), generation(vmi));
        c.set(ConditionTypes.READY, false, reason, message);
        c.set(ConditionTypes.FAILURE, true, reason, message);
        s.setConditions(c.build());
        return s;
    }

    /**
     * Status while downloaded base images are missing: Pending with each disk's progress, or Failed
     * naming the field and the reason of the first download that failed (tried again later).
     */
    static VirtualMachineInstanceStatus awaitingImages(VirtualMachineInstance vmi, NodeFacts node, ImagesNotReady waiting) {
        VirtualMachineInstanceStatus previous = vmi.getStatus();
        VirtualMachineInstanceStatus s = base(vmi, node);
        List<ImageStatus> images = waiting.statuses();
        s.setImages(images);
        Conditions c = new Conditions(previous == null ? null : previous.getConditions(), generation(vmi));
        var failed = waiting.failed();
        if (failed.isPresent()) {
            ImageState.Failed f = (ImageState.Failed) failed.get().state();
            String message = failed.get().field() + " (disk " + failed.get().disk() + "): " + f.message();
            s.setPhase(InstancePhase.Failed);
            c.set(ConditionTypes.READY, false, f.reason().name(), message);
            c.set(ConditionTypes.FAILURE, true, f.reason().name(), message);
        } else {
            s.setPhase(InstancePhase.Pending);
            c.set(ConditionTypes.READY, false, "ImageDownloading", waiting.getMessage());
            c.set(ConditionTypes.FAILURE, false, "NoFailure", "no failure");
        }
        s.setConditions(c.build());
        return s;
    }

    private static VirtualMachineInstanceStatus base(VirtualMachineInstance vmi, NodeFacts node) {
        VirtualMachineInstanceStatus s = new VirtualMachineInstanceStatus();
        s.setNodeName(node.nodeName());
        s.setAccelerator(node.accelerator());
        s.setQemuVersion(node.qemuVersion());
        s.setObservedGeneration(generation(vmi));
        return s;
    }

    private static io.kubevmm.api.v1alpha1.GuestStatus guest(io.kubevmm.node.agent.GuestInfo info) {
        if (info == null) {
            return null;
        }
        var guest = new io.kubevmm.api.v1alpha1.GuestStatus();
        guest.setOsName(info.osName());
        guest.setOsVersion(info.osVersion());
        guest.setKernelRelease(info.kernelRelease());
        guest.setHostname(info.hostname());
        guest.setInterfaces(info.interfaces().isEmpty() ? null : info.interfaces().stream()
                .map(i -> new io.kubevmm.api.v1alpha1.GuestStatus.GuestInterface(i.name(), i.macAddress(),
                        i.ipAddresses().isEmpty() ? null : i.ipAddresses()))
                .toList());
        return guest;
    }

    private static String notReadyReason(VmObservation obs) {
        if (obs.restartWait() != null) {
            return "RestartBackoff";
        }
        if (obs.lastFailure() != null && (obs.phase() == InstancePhase.Failed || obs.machine() == MachineState.CRASHED
                || obs.machine() == MachineState.UNREACHABLE)) {
            return obs.lastFailure().reason();
        }
        return switch (obs.phase()) {
            case Starting, Running -> "Booting";
            case Suspended, Suspending -> "Suspended";
            case Stopped -> "Stopped";
            case Succeeded -> "GuestPoweredOff";
            default -> obs.phase().name();
        };
    }

    private static String notReadyMessage(VmObservation obs) {
        if (obs.restartWait() != null) {
            return restartWaitMessage(obs);
        }
        if (obs.lastFailure() != null && (obs.phase() == InstancePhase.Failed || obs.machine() == MachineState.CRASHED
                || obs.machine() == MachineState.UNREACHABLE)) {
            return obs.lastFailure().message();
        }
        return switch (obs.phase()) {
            case Starting, Running -> "guest is booting; waiting for its readiness line on the console";
            case Suspended -> "guest is suspended";
            case Stopped -> "vCPUs halted, machine created; set state Running to boot";
            case Succeeded -> "guest powered off and restartPolicy keeps it off";
            default -> "guest is " + obs.phase().name().toLowerCase();
        };
    }

    private static String restartWaitMessage(VmObservation obs) {
        var wait = obs.restartWait();
        Failure f = obs.lastFailure();
        return "the guest keeps going down (" + (f != null ? f.reason() + ": " + f.message() : "it powered off") + "); restart "
                + wait.restart() + " in a row waits " + wait.delay().toSeconds() + "s, until " + wait.at()
                + " (restarts back off up to 5m; fix the guest or change the spec to retry at once)";
    }

    private static long generation(VirtualMachineInstance vmi) {
        Long g = vmi.getMetadata().getGeneration();
        return g == null ? 0 : g;
    }

    private static String time(Instant t) {
        return t == null ? null : t.toString();
    }
}
