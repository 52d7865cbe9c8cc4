package io.kubevmm.node.qmp;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

/** A client connected to a scripted fake QEMU, fresh for every test. */
abstract class ConnectedToFakeQemu {
    @TempDir
    Path dir;
    FakeQmpServer qemu;
    QmpClient client;

    @BeforeEach
    void connect() throws Exception {
        qemu = FakeQmpServer.start(dir.resolve("qmp.sock"));
        client = QmpClient.connect(dir.resolve("qmp.sock"), Duration.ofSeconds(5));
    }

    @AfterEach
    void disconnect() throws Exception {
        client.close();
        qemu.close();
    }
}
