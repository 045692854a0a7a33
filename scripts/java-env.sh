# Sourced by every script and launcher of the repository: makes JAVA_HOME a Java 21+ and puts it first on the
# PATH. Builds need a JDK (javac); with DOZOR_JAVA_RUNTIME=1 (the launchers) a runtime is enough.
# Looks in JAVA_HOME, then in /usr/lib/jvm (the newest 21+), then at the java on the PATH.
java_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | cut -d. -f1; }
java_usable() {
  { [ "${DOZOR_JAVA_RUNTIME:-}" = 1 ] || [ -x "$1/bin/javac" ]; } && [ -x "$1/bin/java" ] \
    && [ "$(java_major "$1" 2>/dev/null || echo 0)" -ge 21 ] 2>/dev/null
}
if [ -z "${JAVA_HOME:-}" ] || ! java_usable "$JAVA_HOME"; then
  JAVA_HOME=""
  best=0
  for candidate in /usr/lib/jvm/*; do
    java_usable "$candidate" || continue
    major=$(java_major "$candidate")
    if [ "$major" -gt "$best" ]; then JAVA_HOME="$candidate"; best=$major; fi
  done
  if [ -z "$JAVA_HOME" ] && command -v java >/dev/null; then
    candidate=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
    java_usable "$candidate" && JAVA_HOME="$candidate"
  fi
  if [ -z "$JAVA_HOME" ]; then
    if [ "${DOZOR_JAVA_RUNTIME:-}" = 1 ]; then what="a Java 21 or newer"; else what="a JDK 21 or newer (with javac)"; fi
    echo "dozor: $what is required; none found in JAVA_HOME, /usr/lib/jvm or on the PATH (set JAVA_HOME)" >&2
    exit 2
  fi
fi
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"
# Flags the launchers give every Dozor JVM: JNA (agent) and Netty (server) use native access and
# sun.misc.Unsafe, which JDK 24+ warns about at each start unless allowed explicitly. The Unsafe flag
# exists from JDK 23 on; older JVMs refuse unknown flags.
DOZOR_JVM_FLAGS="--enable-native-access=ALL-UNNAMED"
if [ "$(java_major "$JAVA_HOME")" -ge 23 ]; then
  DOZOR_JVM_FLAGS="$DOZOR_JVM_FLAGS --sun-misc-unsafe-memory-access=allow"
  # Maven's own Guava too, or every build starts with four lines of warnings
  case " ${MAVEN_OPTS:-} " in *" --sun-misc-unsafe-memory-access="*) ;; *)
    export MAVEN_OPTS="${MAVEN_OPTS:+$MAVEN_OPTS }--sun-misc-unsafe-memory-access=allow" ;;
  esac
fi
