# Sourced by bin/* scripts: picks a JDK >= 21 for Maven and the JVM processes (Temurin 25 preferred).
kubevmm_java_ok() { [ -x "$1/bin/java" ] && "$1/bin/java" -version 2>&1 | grep -Eq 'version "(2[1-9]|[3-9][0-9])'; }
if [ -z "${JAVA_HOME:-}" ] || ! kubevmm_java_ok "$JAVA_HOME"; then
  for candidate in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-2[5-9]* /usr/lib/jvm/java-2[1-9]-openjdk-amd64; do
    if kubevmm_java_ok "$candidate"; then export JAVA_HOME="$candidate"; break; fi
  done
fi
if [ -z "${JAVA_HOME:-}" ] || ! kubevmm_java_ok "$JAVA_HOME"; then
  echo "kubevmm: needs a JDK 21 or newer (Temurin 25 recommended); set JAVA_HOME to it" >&2
  echo "  on Debian: apt-get install openjdk-21-jdk   (or install Temurin 25 under /usr/lib/jvm)" >&2
  exit 1
fi
export PATH="$JAVA_HOME/bin:$PATH"
