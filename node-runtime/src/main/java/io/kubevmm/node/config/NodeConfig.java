package io.kubevmm.node.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** Node runtime settings ({@code kubevmm.node.*}, or the matching {@code KUBEVMM_NODE_*} environment variables). */
@ConfigMapping(prefix = "kubevmm.node")
public interface NodeConfig {

    /** This node's name: the {@code kubevmm.io/node} label value of the VMIs it runs. */
    String name();

    /** Root of per-VM state directories ({@code <stateDir>/vms/<namespace>_<name>/}). */
    @WithDefault("/var/lib/kubevmm")
    Path stateDir();

    /** Where relative kernel, initrd and base-image paths of a VM spec resolve. */
    @WithDefault("/var/lib/kubevmm/images")
    Path imageDir();

    /** Bearer token every HTTP request must carry. */
    String apiToken();

    /** Host other components use to reach this node runtime; the port is the HTTP port. */
    @WithDefault("127.0.0.1")
    String advertiseAddress();

    /**
     * Address the node API and the migration tunnel listen on; application.properties defaults
     * it to {@link #advertiseAddress()}, so nothing listens where nobody is told to connect.
     * {@code 0.0.0.0} listens everywhere.
     */
    @WithDefault("127.0.0.1")
    String bindAddress();

    /**
     * This node's IPv4 address on the network between the nodes: the local end of its overlay
     * networks' VXLAN devices, where the other nodes send the traffic of this node's guests
     * (published in VMNode status.underlayAddress). Unset: {@link #bindAddress()}, or
     * {@link #advertiseAddress()} when that is 0.0.0.0. Loopback carries VXLAN to no other node:
     * nodes on one machine need network namespaces of their own (see docs/networking.md).
     */
    Optional<String> underlayAddress();

    /**
     * Underlay addresses of hosts that are members of every overlay segment without being nodes
     * (the local cluster's machine; a router): each also gets the segments' broadcast and unknown
     * unicast, so such a host, once it has a VXLAN device of the segment, reaches the guests of
     * every node by their overlay addresses. Comma-separated IPv4 addresses; unset: none.
     */
    Optional<List<String>> overlayHosts();

    Qemu qemu();

    Tunnel tunnel();

    Capacity capacity();

    ImageCache imageCache();

    PortForward portForward();

    /**
     * How often the node renews its Lease (and publishes its VMNode). Five renewals fit in the
     * default lease, so a node that misses four in a row (a GC pause, a slow API server) is still
     * alive for the operator. See docs/ha.md.
     */
    @WithDefault("3s")
    Duration heartbeatInterval();

    /** How long a renewal counts: past it the operator declares the node lost (Lease {@code kubevmm-node-<name>}). */
    @WithDefault("15s")
    Duration leaseDuration();

    /**
     * A node that has not renewed its Lease for this long kills its guests of highAvailability
     * mode Restart (and so does its fence guard, which outlives the node runtime): they may be
     * started on another node once the lease expired. Must be shorter than {@link #leaseDuration()}
     * by more than the time a kill takes plus the clock skew between hosts; see docs/ha.md.
     */
    @WithDefault("10s")
    Duration fenceAfter();

    interface Qemu {
        @WithDefault("qemu-system-x86_64")
        String binary();

        @WithDefault("qemu-img")
        String img();

        /** {@code auto} uses KVM when QEMU can open it, else TCG; {@code kvm} or {@code tcg} force one. */
        @WithDefault("auto")
        String accelerator();

        /**
         * Unprivileged user QEMU switches to after start; unset: QEMU keeps the node runtime's user
         * (said in the log and VMNode condition {@code QemuUnprivileged}). Experimental, see docs/security.md.
         */
        Optional<String> user();

        /** OVMF code flash for {@code boot.firmware: uefi} (Debian package ovmf), opened read-only. */
        @WithDefault("/usr/share/OVMF/OVMF_CODE_4M.fd")
        Path uefiCode();

        /** OVMF variables template each UEFI VM's own variables file is copied from on its first start. */
        @WithDefault("/usr/share/OVMF/OVMF_VARS_4M.fd")
        Path uefiVarsTemplate();
    }

    /** The migration tunnel: node-to-node TCP listener for live-migration streams. */
    interface Tunnel {
        /** 0 picks a free port (tests); the chosen one is published in VMNode status.migrationEndpoint. */
        @WithDefault("8091")
        int port();

        /** PEM certificate chain; with key and CA set, tunnels use mutually authenticated TLS. */
        Optional<Path> tlsCert();

        /** PEM private key (PKCS#8) of {@code tls-cert}. */
        Optional<Path> tlsKey();

        /** PEM CA bundle both ends trust. */
        Optional<Path> tlsCa();
    }

    /** Downloaded base images ({@code disks[].source.http}), kept in {@code <stateDir>/image-cache}; see docs/images.md. */
    interface ImageCache {
        /** A cached image no disk or snapshot on this node uses is removed once unused this long. */
        @WithDefault("1h")
        Duration keepUnused();

        /** How often unused images are looked for. */
        @WithDefault("10m")
        Duration sweepInterval();

        /** A failed download is tried again by the next VM start after this long. */
        @WithDefault("30s")
        Duration retryAfter();

        @WithDefault("10s")
        Duration connectTimeout();

        /** Longest wait for the server's answer to the request (not for the whole transfer). */
        @WithDefault("30s")
        Duration readTimeout();
    }

    /** {@code kubevmm port-forward} and {@code kubevmm ssh} sessions into guests; see docs/access.md. */
    interface PortForward {
        /** Sessions one VM may have open at once; one more is refused with HTTP 429. */
        @WithDefault("16")
        int maxPerVm();

        /** A session in which no byte moved either way for this long is closed. */
        @WithDefault("30m")
        Duration idleTimeout();

        /** Longest wait for the guest port to be forwarded and connected before the session is refused. */
        @WithDefault("20s")
        Duration connectTimeout();
    }

    /** The underlay address in effect: {@link #underlayAddress()} or its default. */
    default String effectiveUnderlayAddress() {
        return underlayAddress().orElse("0.0.0.0".equals(bindAddress()) ? advertiseAddress() : bindAddress());
    }

    interface Capacity {
        /** vCPUs VMs may use on this node; default: the host's processors. */
        Optional<Integer> cpu();

        /** Memory VMs may use (quantity, e.g. 16Gi); default: host memory less {@code reserved-memory}. */
        Optional<String> memory();

        /** Host memory kept for the system and the node runtime itself when capacity is derived. */
        @WithDefault("1Gi")
        String reservedMemory();
    }
}
