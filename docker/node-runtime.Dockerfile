# KubeVMM node runtime image: JRE + QEMU 10. Build from the repository root after `mvn -DskipTests package`:
#   docker build -f docker/node-runtime.Dockerfile -t ghcr.io/kubevmm/node-runtime:0.1.0-SNAPSHOT .
# It runs privileged as root in the DaemonSet (it needs /dev/kvm, tap devices and host state dirs).
# Debian bookworm underneath, because QEMU 10 comes from its backports suite (bin/install-qemu);
# the JRE is Temurin's, copied from its own image.
FROM eclipse-temurin:21-jre AS jre

FROM debian:bookworm-slim

ENV LANG=C.UTF-8 \
    JAVA_HOME=/opt/java/openjdk \
    PATH=/opt/java/openjdk/bin:$PATH \
    JAVA_OPTS_APPEND="-XX:MaxRAMPercentage=50 -Djava.util.logging.manager=org.jboss.logmanager.LogManager"

COPY --from=jre /opt/java/openjdk /opt/java/openjdk
COPY bin/install-qemu /usr/local/sbin/install-qemu
RUN apt-get update \
 && echo 'APT::Install-Recommends "false";' > /etc/apt/apt.conf.d/90no-recommends \
 && install-qemu \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ovmf dosfstools mtools iproute2 nftables dnsmasq-base \
 && rm -rf /var/lib/apt/lists/*

COPY node-runtime/target/quarkus-app/lib/ /deployments/lib/
COPY node-runtime/target/quarkus-app/*.jar /deployments/
COPY node-runtime/target/quarkus-app/app/ /deployments/app/
COPY node-runtime/target/quarkus-app/quarkus/ /deployments/quarkus/

WORKDIR /deployments
VOLUME ["/var/lib/kubevmm"]
EXPOSE 8090 8091
ENTRYPOINT ["sh", "-c", "exec java $JAVA_OPTS_APPEND -jar /deployments/quarkus-run.jar"]
