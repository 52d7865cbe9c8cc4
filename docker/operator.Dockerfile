# KubeVMM operator image. Build from the repository root after `mvn -DskipTests package`:
#   docker build -f docker/operator.Dockerfile -t ghcr.io/kubevmm/operator:0.1.0-SNAPSHOT .
FROM eclipse-temurin:21-jre

ENV LANG=C.UTF-8 \
    JAVA_OPTS_APPEND="-XX:MaxRAMPercentage=75 -Djava.util.logging.manager=org.jboss.logmanager.LogManager"

# Non-root user (uid 185, as in the Quarkus images; the chart sets runAsUser 185).
RUN groupadd --system --gid 185 kubevmm \
 && useradd --system --uid 185 --gid 185 --home-dir /deployments --shell /usr/sbin/nologin kubevmm \
 && mkdir -p /deployments && chown 185:185 /deployments

# Quarkus fast-jar layout, dependencies first so they cache across application rebuilds.
COPY --chown=185:185 operator/target/quarkus-app/lib/ /deployments/lib/
COPY --chown=185:185 operator/target/quarkus-app/*.jar /deployments/
COPY --chown=185:185 operator/target/quarkus-app/app/ /deployments/app/
COPY --chown=185:185 operator/target/quarkus-app/quarkus/ /deployments/quarkus/

WORKDIR /deployments
USER 185
EXPOSE 8089
ENTRYPOINT ["sh", "-c", "exec java $JAVA_OPTS_APPEND -jar /deployments/quarkus-run.jar"]
