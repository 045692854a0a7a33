# Sourced by ./dozor-dev and .ci/run: makes JAVA_HOME a JDK 21+ (the build needs it).
java_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | cut -d. -f1; }
if [ -z "${JAVA_HOME:-}" ] || [ "$(java_major "$JAVA_HOME" 2>/dev/null || echo 0)" -lt 21 ] 2>/dev/null; then
  JAVA_HOME=""
  for candidate in /usr/lib/jvm/*; do
    [ -x "$candidate/bin/javac" ] || continue
    major=$(java_major "$candidate" || echo 0)
    if [ "${major:-0}" -ge 21 ] 2>/dev/null; then JAVA_HOME="$candidate"; fi
  done
  if [ -z "$JAVA_HOME" ] && command -v javac >/dev/null; then
    candidate=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
    [ "$(java_major "$candidate" || echo 0)" -ge 21 ] && JAVA_HOME="$candidate"
  fi
  if [ -z "$JAVA_HOME" ]; then
    echo "dozor: a JDK 21 or newer is required (none found in JAVA_HOME or /usr/lib/jvm)" >&2
    exit 2
  fi
fi
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"
