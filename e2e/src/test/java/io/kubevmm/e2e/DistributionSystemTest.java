package io.kubevmm.e2e;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A real distribution as a KubeVirt user runs one: the Debian image guest/build-os-image.sh
 * builds, served by URL on this host's loopback and verified by its SHA-256, boots through UEFI;
 * cloud-init installs the SSH key the spec gives; {@code kubevmm ssh} logs in with it; the guest
 * agent reports the OS and the address into the VM's status; a Disk snapshot freezes the guest's
 * file systems and a rollback brings back a file written before it; {@code kubevmm stop} shuts the
 * guest down through the agent. Everything through kubectl and the CLI, as a user does it.
 */
class DistributionSystemTest extends ClusterTestBase {
    static final Duration OS_BOOT = Duration.ofMinutes(5);
    static final Path IMAGE = repo().resolve("guest/out/debian-bookworm.qcow2");

    HttpServer images;
    String imageUrl;
    String imageSha256;
    Path key;

    @Override
    String clusterDirName() {
        return "distribution-test-cluster";
    }

    @BeforeAll
    void serveTheImageAndMakeAKey() throws Exception {
        assumeLocalCluster(); // the image server listens on this machine, where the local nodes reach it
        assertThat(IMAGE).as("the Debian image (bash guest/build-os-image.sh, as root; bin/test builds it)").exists();
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(IMAGE)) {
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) {
                sha.update(buf, 0, n);
            }
        }
        imageSha256 = HexFormat.of().formatHex(sha.digest());
        images = HttpServer.create(new InetSocketAddress(InetAddress.getByName(cluster.hostAddress()), 0), 0);
        images.createContext("/debian-bookworm.qcow2", exchange -> {
            try (exchange) {
                exchange.sendResponseHeaders(200, Files.size(IMAGE));
                Files.copy(IMAGE, exchange.getResponseBody());
            }
        });
        images.start();
        imageUrl = "http://" + cluster.hostAddress() + ":" + images.getAddress().getPort() + "/debian-bookworm.qcow2";

        key = cluster.home().dir().resolve("id_ed25519");
        Files.deleteIfExists(key);
        Files.deleteIfExists(Path.of(key + ".pub"));
        Process keygen = new ProcessBuilder("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "kubevmm-test", "-f", key.toString())
                .redirectErrorStream(true).start();
        assertThat(keygen.waitFor()).as("ssh-keygen").isZero();
    }

    @AfterAll
    void stopServing() {
        if (images != null) {
            images.stop(0);
        }
    }

    String debianVm(String name, String sha256) throws IOException {
        return """
                apiVersion: kubevmm.io/v1alpha1
                kind: VirtualMachine
                metadata:
                  name: %s
                spec:
                  state: Running
                  profile: standard
                  cpu: 2
                  memory: 1Gi
                  boot: {firmware: uefi}
                  network: {mode: user}
                  disks:
                    - name: root
                      bootOrder: 1
                      source: {http: {url: "%s", sha256: "%s"}}
                  cloudInit:
                    sshAuthorizedKeys: ["%s"]
                  readiness: {serialPattern: "login:"}
                  terminationGracePeriodSeconds: 90
                """.formatted(name, imageUrl, sha256, Files.readString(Path.of(key + ".pub")).strip());
    }

    Cli ssh(String vm, String command) throws IOException, InterruptedException {
        return kubevmm("ssh", "debian@vm/" + vm, "-i", key.toString(), "--", command);
    }

    String jsonpath(String kind, String name, String path) throws IOException, InterruptedException {
        Cli get = kubectl(null, "get", kind, name, "-o", "jsonpath={" + path + "}");
        assertThat(get.code()).as("kubectl get %s %s: %s", kind, name, get.out()).isZero();
        return get.out();
    }

    @Test
    void aDebianImageByUrlBootsWithCloudInitAndIsReachedBySshAndTheAgent() throws Exception {
        long applied = System.nanoTime();
        Cli apply = kubectl(debianVm("deb", imageSha256), "apply", "-f", "-");
        assertThat(apply.code()).as(apply.out()).isZero();

        // The key cloud-init installed lets `kubevmm ssh` in; sshd may answer before cloud-init is done.
        Cli[] osRelease = new Cli[1];
        await().atMost(OS_BOOT).pollInterval(Duration.ofSeconds(3)).until(() -> {
            osRelease[0] = ssh("deb", "cat /etc/os-release");
            return osRelease[0].code() == 0;
        });
        long bootToSshMillis = (System.nanoTime() - applied) / 1_000_000;
        System.out.printf("Debian UEFI guest: kubectl apply to a command run over kubevmm ssh: %d ms%n", bootToSshMillis);
        assertThat(osRelease[0].out()).contains("ID=debian").contains("VERSION_ID=\"12\"");

        // The guest agent's view, rolled up into the VM's status.
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1))
                .until(() -> jsonpath("vm", "deb", ".status.guest.osName").contains("Debian"));
        assertThat(jsonpath("vm", "deb", ".status.guest.interfaces[*].ipAddresses[*]")).contains("10.0.2.15");
        assertThat(jsonpath("vm", "deb", ".status.conditions[?(@.type==\"AgentConnected\")].status")).isEqualTo("True");

        // A file written before a Disk snapshot is there again after a rollback.
        String token = UUID.randomUUID().toString();
        assertThat(ssh("deb", "echo " + token + " > marker && sync").code()).isZero();
        Cli snapshot = kubevmm("snapshot", "deb", "--type", "Disk", "--name", "deb-disk");
        assertThat(snapshot.code()).as(snapshot.out()).isZero();
        assertThat(jsonpath("vmsnapshot", "deb-disk", ".status.indications")).as("the agent froze the file systems").contains("Frozen");
        assertThat(ssh("deb", "rm marker && sync").code()).isZero();
        Cli rollback = kubevmm("restore", "deb-disk");
        assertThat(rollback.code()).as(rollback.out()).isZero();
        Cli[] marker = new Cli[1];
        await().atMost(OS_BOOT).pollInterval(Duration.ofSeconds(3)).until(() -> {
            marker[0] = ssh("deb", "cat marker");
            return marker[0].code() == 0;
        });
        assertThat(marker[0].out()).contains(token);

        // A stop goes through the agent: the guest shuts down cleanly (systemd's last word on the console).
        Cli stop = kubevmm("stop", "--halt", "deb");
        assertThat(stop.code()).as(stop.out()).isZero();
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1))
                .until(() -> "Stopped".equals(jsonpath("vm", "deb", ".status.phase")));
        assertThat(console("deb")).contains("reboot: Power down");
        assertThat(kubectl(null, "get", "events", "--field-selector", "involvedObject.name=deb").out()).containsIgnoringCase("agent");
        deleteAndAwaitGone("deb");
    }

    @Test
    void aWrongChecksumIsRefusedNamingTheFieldAndTheNodeRunsOn() throws Exception {
        client.resource(vm("witness", "128Mi", "idle")).create();
        awaitPhase("witness", io.kubevmm.api.v1alpha1.VmPhase.Running, true);
        int tick = lastTick("witness");

        Cli apply = kubectl(debianVm("bad-sum", "0".repeat(64)), "apply", "-f", "-");
        assertThat(apply.code()).as(apply.out()).isZero();
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1))
                .until(() -> jsonpath("vm", "bad-sum", ".status.conditions[?(@.type==\"Ready\")].reason").equals("ImageChecksumMismatch"));
        assertThat(jsonpath("vm", "bad-sum", ".status.conditions[?(@.type==\"Ready\")].message"))
                .contains("spec.disks[0].source.http");
        assertThat(jsonpath("vm", "bad-sum", ".status.images[0].reason")).isEqualTo("ImageChecksumMismatch");

        // A disk path that leaves the image directory is refused before anything opens it, naming the field.
        Cli outside = kubectl(debianVm("bad-path", imageSha256).replace("source: {http: {url: \"" + imageUrl + "\", sha256: \""
                + imageSha256 + "\"}}", "source: {path: ../../etc/shadow}"), "apply", "-f", "-");
        assertThat(outside.code()).as(outside.out()).isZero();
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1))
                .until(() -> jsonpath("vm", "bad-path", ".status.conditions[?(@.type==\"Valid\")].status").equals("False"));
        assertThat(jsonpath("vm", "bad-path", ".status.conditions[?(@.type==\"Valid\")].message")).contains("spec.disks[0].source.path");
        assertThat(kubectl(null, "get", "vmi", "bad-path").code()).as("no instance on any node").isNotZero();
        deleteAndAwaitGone("bad-path");

        awaitTickAbove("witness", tick + 2); // the node and its other guest go on
        deleteAndAwaitGone("bad-sum");
        deleteAndAwaitGone("witness");
    }
}
