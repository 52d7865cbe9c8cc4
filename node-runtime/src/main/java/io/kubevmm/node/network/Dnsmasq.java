package io.kubevmm.node.network;

import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The DHCP server of one segment on this node: Debian's dnsmasq, bound to the segment's bridge,
 * handing out only static leases (MAC to IP, infinite) for the guests this node runs, so any image
 * with a DHCP client gets its address. It also answers DNS on the gateway address (forwarding to
 * the node's resolvers). The leases live in a hosts file in the segment's state dir; dnsmasq
 * re-reads it on SIGHUP. Its pidfile lets a later node runtime end one an earlier one left.
 */
final class Dnsmasq {
    private static final Logger LOG = Logger.getLogger(Dnsmasq.class);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(10);

    private final HostCommands commands;
    private final Segment segment;
    private final Path dir;
    private Process process;

    Dnsmasq(HostCommands commands, Segment segment, Path dir) {
        this.commands = commands;
        this.segment = segment;
        this.dir = dir;
    }

    Path hostsFile() { return dir.resolve("dhcp-hosts"); }

    Path pidFile() { return dir.resolve("dnsmasq.pid"); }

    Path log() { return dir.resolve("dnsmasq.log"); }

    boolean running() {
        return process != null && process.isAlive();
    }

    /** The command line: every value derived from the segment and the state dir. */
    List<String> command() {
        Ipv4Cidr cidr = segment.cidr();
        return List.of("dnsmasq", "--conf-file=/dev/null", "--keep-in-foreground", "--bind-interfaces",
                "--interface=" + segment.bridge(), "--except-interface=lo", "--no-hosts", "--log-facility=-",
                "--dhcp-range=" + cidr.networkAddress() + ",static," + cidr.netmask(),
                "--dhcp-option=option:router," + cidr.gateway(),
                "--dhcp-option=option:mtu," + Segment.MTU,
                "--dhcp-hostsfile=" + hostsFile(),
                "--dhcp-leasefile=" + dir.resolve("dnsmasq.leases"),
                "--pid-file=" + pidFile());
    }

    /** Starts it with {@code leases} (MAC to IP), after ending one an earlier node runtime left. */
    void start(Map<String, String> leases) {
        try {
            // dnsmasq drops its privileges (to nobody) and re-reads the hosts file so: it must be readable.
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException e) {
            throw new NetworkException("cannot create " + dir + ": " + e.getMessage(), e);
        }
        requireReadableByOthers(dir);
        endLeftover();
        writeHosts(leases);
        process = commands.start(command(), log());
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        // SIGHUP before dnsmasq has its handler would end it: wait for the pidfile it writes once set up.
        while (!pidFileNames(process.pid())) {
            if (!process.isAlive()) {
                throw new NetworkException("dnsmasq for " + segment.bridge() + " exited at start (exit " + process.exitValue()
                        + "): " + lastLog());
            }
            if (System.nanoTime() > deadline) {
                stop();
                throw new NetworkException("dnsmasq for " + segment.bridge() + " did not start within "
                        + START_TIMEOUT.toSeconds() + " s: " + lastLog());
            }
            sleep(20);
        }
        LOG.infof("dnsmasq %d serves DHCP on %s (%s)", process.pid(), segment.bridge(), segment.cidr());
    }

    /** Replaces the leases; dnsmasq reads them again on SIGHUP. */
    void update(Map<String, String> leases) {
        writeHosts(leases);
        if (running()) {
            commands.run("kill", "-s", "HUP", Long.toString(process.pid()));
        }
    }

    void stop() {
        if (process != null) {
            process.destroy();
            try {
                if (!process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            LOG.infof("dnsmasq %d on %s stopped", process.pid(), segment.bridge());
            process = null;
        }
        try {
            Files.deleteIfExists(pidFile());
        } catch (IOException e) {
            LOG.warnf("cannot delete %s: %s", pidFile(), e.getMessage());
        }
    }

    private void writeHosts(Map<String, String> leases) {
        String text = leases.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .map(e -> e.getKey() + "," + e.getValue() + ",infinite\n").collect(Collectors.joining());
        try {
            Path tmp = dir.resolve("dhcp-hosts.tmp");
            Files.writeString(tmp, text, StandardCharsets.US_ASCII);
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
            Files.move(tmp, hostsFile(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new NetworkException("cannot write " + hostsFile() + ": " + e.getMessage(), e);
        }
    }

    /**
     * dnsmasq reads its hosts file after it dropped its privileges (to nobody), at start and on
     * every SIGHUP: every directory above the file must let others through, or no guest gets a lease.
     */
    static void requireReadableByOthers(Path dir) {
        for (Path p = dir.toAbsolutePath(); p != null; p = p.getParent()) {
            try {
                if (Files.exists(p) && !Files.getPosixFilePermissions(p).contains(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE)) {
                    throw new NetworkException("dnsmasq (it runs as nobody) cannot read its leases under " + dir + ": " + p
                            + " does not let others through; chmod o+x " + p + " or move kubevmm.node.state-dir");
                }
            } catch (IOException e) {
                throw new NetworkException("cannot check " + p + ": " + e.getMessage(), e);
            }
        }
    }

    private boolean pidFileNames(long pid) {
        try {
            return Files.exists(pidFile()) && Files.readString(pidFile()).strip().equals(Long.toString(pid));
        } catch (IOException e) {
            return false;
        }
    }

    /** A dnsmasq of ours for this bridge that an earlier node runtime left running. */
    private void endLeftover() {
        Optional<ProcessHandle> left = Optional.empty();
        try {
            if (Files.exists(pidFile())) {
                long pid = Long.parseLong(Files.readString(pidFile()).strip());
                left = ProcessHandle.of(pid).filter(p -> {
                    try {
                        String cmdline = Files.readString(Path.of("/proc", Long.toString(pid), "cmdline")).replace('\0', ' ');
                        return cmdline.contains("dnsmasq") && cmdline.contains("--pid-file=" + pidFile());
                    } catch (IOException e) {
                        return false;
                    }
                });
            }
        } catch (IOException | NumberFormatException e) {
            LOG.debugf("unreadable %s: %s", pidFile(), e.getMessage());
        }
        left.ifPresent(p -> {
            LOG.infof("ending dnsmasq %d an earlier node runtime left on %s", p.pid(), segment.bridge());
            p.destroy();
            try {
                p.onExit().get(5, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception e) {
                p.destroyForcibly();
            }
        });
    }

    private String lastLog() {
        try {
            List<String> lines = Files.readAllLines(log());
            return String.join(" | ", lines.subList(Math.max(0, lines.size() - 3), lines.size()));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NetworkException("interrupted", e);
        }
    }
}
