package io.kubevmm.node.testing;

import io.kubevmm.node.engine.VmmInstance;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayList;
import java.util.List;

/**
 * The emulators a test started, destroyed after each test whatever its outcome, so no QEMU
 * outlives the test that made it. Register with
 * {@code @RegisterExtension final StartedGuests started = new StartedGuests();}.
 */
public final class StartedGuests implements AfterEachCallback {
    private final List<VmmInstance> started = new ArrayList<>();

    /** Tracks {@code vm} and returns it. */
    public <T extends VmmInstance> T add(T vm) {
        started.add(vm);
        return vm;
    }

    /** Stops tracking {@code vm} (another owner destroys it, or the test did). */
    public boolean remove(VmmInstance vm) {
        return started.remove(vm);
    }

    /** The most recently tracked emulator, no longer tracked. */
    public VmmInstance removeLast() {
        return started.removeLast();
    }

    public VmmInstance getFirst() {
        return started.getFirst();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        started.forEach(VmmInstance::destroy);
        started.clear();
    }
}
