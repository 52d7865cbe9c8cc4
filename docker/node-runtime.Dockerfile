# KubeVMM node runtime image: JRE + QEMU. Build from the repository root after `mvn -DskipTests package`:
#   docker build -f docker/node-runtime.Dockerfile -t ghcr.io/kubevmm/node-runtime:0.1.0-SNAPSHOT .
# It runs privileged as root in the DaemonSet (it needs /dev/kvm, tap devices and host state dirs).
FROM eclipse-temurin:21-jre

ENV LANG=C.UTF-8 \
    JAVA_OPTS_APPEND="-XX:MaxRAMPercentage=50 -Djava.util.logging.manager=org.jboss.logmanager.LogManager"

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends qemu-system-x86 qemu-utils \
 && rm -rf /var/lib/apt/lists/*

COPY node-runtime/target/quarkus-app/lib/ /deployments/lib/
COPY node-runtime/target/quarkus-app/*.jar /deployments/
COPY node-runtime/target/quarkus-app/app/ /deployments/app/
COPY node-runtime/target/quarkus-app/quarkus/ /deployments/quarkus/

WORKDIR /deployments
VOLUME ["/var/lib/kubevmm"]
EXPOSE 8090 8091
ENTRYPOINT ["sh", "-c", "exec java $JAVA_OPTS_APPEND -jar /deployments/quarkus-run.jar"]
