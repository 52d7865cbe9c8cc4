package io.kubevmm.node.lifecycle;

import io.kubevmm.node.engine.Accelerator;
import io.kubevmm.node.engine.DiskChain;
import io.kubevmm.node.engine.EmulatorUnreachableException;
import io.kubevmm.node.engine.EngineException;
import io.kubevmm.node.engine.FullStateCapture;
import io.kubevmm.node.engine.IncomingMigration;
import io.kubevmm.node.engine.OutgoingMigration;
import io.kubevmm.node.engine.RunState;
import io.kubevmm.node.engine.SnapshotImage;
import io.kubevmm.node.engine.VmConfig;
import io.kubevmm.node.engine.VmEvent;
import io.kubevmm.node.engine.VmmEngine;
import io.kubevmm.node.engine.VmmInstance;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * An engine without emulator processes, for running the lifecycle in milliseconds: each
 * {@link Instance} is a run state, a console log file and listeners. The test plays the guest
 * ({@link Instance#crash}, {@link Instance#powerOff}, {@link Instance#print}) and an earlier node
 * runtime ({@link #leave}, {@link #unreachableFor}); failures are queued per operation ({@link #failNext}).
 * Live migration and snapshots are not faked: a test drives the migration's work itself.
 */
final class FakeEngine implements VmmEngine {
    private static final AtomicLong PIDS = new AtomicLong(40_000);

    private final Map<String, Instance> left = new ConcurrentHashMap<>();
    private final Map<String, Integer> unreachable = new ConcurrentHashMap<>();
    private final Map<String, Deque<EngineException>> failures = new ConcurrentHashMap<>();
    /** Emulators this engine started (create, restore, incoming). */
    final AtomicLong created = new AtomicLong();
    /** Every emulator of this engine, started or left by an earlier runtime, oldest first. */
    final List<Instance> emulators = new CopyOnWriteArrayList<>();

    /** An operation of the engine or an instance ({@code create}, {@code restore}, {@code resume}, ...). */
    void failNext(String operation, EngineException failure) {
        failures.computeIfAbsent(operation, k -> new ArrayDeque<>()).add(failure);
    }

    /** An emulator an earlier node runtime left running for {@code config}; the next {@link #adopt} finds it. */
    Instance leave(VmConfig config, RunState state) {
        Instance instance = new Instance(config, state);
        emulators.add(instance);
        left.put(config.id(), instance);
        return instance;
    }

    /** The next {@code attempts} adoptions of {@code config} find its emulator alive but not answering. */
    void unreachableFor(VmConfig config, int attempts) {
        unreachable.put(config.id(), attempts);
    }

    private void maybeFail(String operation) throws EngineException {
        Deque<EngineException> queued = failures.get(operation);
        EngineException next = queued == null ? null : queued.poll();
        if (next != null) {
            throw next;
        }
    }

    @Override public Accelerator accelerator() { return Accelerator.TCG; }

    @Override public String version() { return "fake"; }

    @Override
    public VmmInstance create(VmConfig config) throws EngineException {
        maybeFail("create");
        return start(config, RunState.CREATED);
    }

    @Override
    public VmmInstance restore(VmConfig config) throws EngineException {
        maybeFail("restore");
        if (!Files.exists(config.suspendStateFile())) {
            throw new EngineException(EngineException.Reason.StateUnusable, "no saved state at " + config.suspendStateFile());
        }
        return start(config, RunState.PAUSED);
    }

    @Override
    public VmmInstance createIncoming(VmConfig config) throws EngineException {
        maybeFail("createIncoming");
        return start(config, RunState.CREATED);
    }

    private Instance start(VmConfig config, RunState state) {
        try {
            Files.createDirectories(config.stateDir());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Instance instance = new Instance(config, state);
        emulators.add(instance);
        created.incrementAndGet();
        return instance;
    }

    @Override
    public Optional<VmmInstance> adopt(VmConfig config) throws EmulatorUnreachableException {
        Integer silent = unreachable.get(config.id());
        if (silent != null && silent > 0) {
            unreachable.put(config.id(), silent - 1);
            throw new EmulatorUnreachableException(ProcessHandle.current(),
                    "QEMU " + ProcessHandle.current().pid() + " of " + config.id() + " does not answer", null);
        }
        return Optional.ofNullable(left.remove(config.id()));
    }

    @Override public List<DiskChain> snapshotDisks(VmConfig config) { throw notFaked(); }

    @Override public VmmInstance restoreSnapshot(VmConfig target, SnapshotImage image) { throw notFaked(); }

    @Override public List<Path> mergeUnsharedLayers(VmConfig config) { throw notFaked(); }

    @Override public long effectiveMemoryBytes(VmConfig config) { return config.memoryBytes(); }

    @Override public List<String> workarounds(VmConfig config) { return List.of(); }

    private static UnsupportedOperationException notFaked() {
        return new UnsupportedOperationException("the fake engine runs the lifecycle only");
    }

    /** One fake emulator: a run state and a console log. */
    final class Instance implements VmmInstance {
        private final VmConfig config;
        private final long pid = PIDS.incrementAndGet();
        private final List<Consumer<VmEvent>> listeners = new CopyOnWriteArrayList<>();
        private volatile RunState state;
        /** The guest ignores the ACPI power button (a stop then waits out its grace period). */
        volatile boolean ignoresPowerButton;
        volatile boolean destroyed;
        final List<String> calls = new CopyOnWriteArrayList<>();

        Instance(VmConfig config, RunState state) {
            this.config = config;
            this.state = state;
        }

        // ---- what the guest does on its own ----

        void print(String line) {
            try {
                Files.createDirectories(config.consoleLog().getParent());
                Files.writeString(config.consoleLog(), line + "\n", StandardCharsets.UTF_8,
                        StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        void crash(String detail) {
            state = RunState.CRASHED;
            emit(new VmEvent.GuestCrashed(detail));
        }

        void powerOff() {
            state = RunState.SHUTDOWN;
            emit(new VmEvent.GuestPoweredOff());
        }

        void reboot() {
            emit(new VmEvent.GuestReset());
        }

        /** The emulator process dies under the guest. */
        void exit(int code) {
            state = RunState.GONE;
            emit(new VmEvent.ProcessExited(code, "killed"));
        }

        /** What the emulator reports from now on (e.g. MIGRATED after a post-copy switchover). */
        void becomes(RunState next) {
            state = next;
        }

        private void emit(VmEvent event) {
            listeners.forEach(l -> l.accept(event));
        }

        // ---- VmmInstance ----

        @Override public VmConfig config() { return config; }

        @Override public long pid() { return pid; }

        @Override public RunState runState() { return destroyed ? RunState.GONE : state; }

        @Override
        public void resume() throws EngineException {
            calls.add("resume");
            maybeFail("resume");
            state = RunState.RUNNING;
        }

        @Override
        public void pause() throws EngineException {
            calls.add("pause");
            maybeFail("pause");
            state = RunState.PAUSED;
        }

        @Override
        public long saveState() throws EngineException {
            calls.add("saveState");
            state = RunState.PAUSED;
            maybeFail("saveState");
            try {
                Files.write(config.suspendStateFile(), new byte[4096]);
            } catch (IOException e) {
                throw new EngineException(EngineException.Reason.OperationFailed, e.getMessage(), e);
            }
            destroy();
            return 4096;
        }

        @Override
        public void reset() throws EngineException {
            calls.add("reset");
            maybeFail("reset");
            state = RunState.PAUSED;
        }

        @Override
        public void requestPowerDown() {
            calls.add("requestPowerDown");
            if (!ignoresPowerButton) {
                powerOff();
            }
        }

        @Override
        public void destroy() {
            destroyed = true;
        }

        @Override public List<DiskChain> snapshotDisks() { throw notFaked(); }

        @Override public FullStateCapture snapshotFullState(Path stateFile) { throw notFaked(); }

        @Override public List<Path> mergeUnsharedLayers() { throw notFaked(); }

        @Override public io.kubevmm.node.engine.GuestPort openGuestPort(int guestPort, java.time.Duration timeout) { throw notFaked(); }

        @Override public OutgoingMigration outgoing() { throw notFaked(); }

        @Override public IncomingMigration incoming() { throw notFaked(); }

        @Override public void addListener(Consumer<VmEvent> listener) { listeners.add(listener); }

        @Override public String toString() { return "fake emulator " + pid + " (" + runState() + ")"; }
    }

    List<Instance> emulatorsOf(VmConfig config) {
        List<Instance> mine = new ArrayList<>();
        emulators.forEach(i -> {
            if (i.config().id().equals(config.id())) {
                mine.add(i);
            }
        });
        return mine;
    }
}
