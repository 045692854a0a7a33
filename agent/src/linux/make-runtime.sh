#!/bin/sh
# Makes ./jre: a Java runtime with only the modules the agent needs (jlink, from a JDK 21+ in $JAVA_HOME or on
# the PATH), which the launcher then uses. Smaller on disk and in memory than a full JDK (BENCHMARKS.md).
set -e
HERE=$(cd "$(dirname "$0")" && pwd)
JLINK=jlink
if [ -n "$JAVA_HOME" ]; then JLINK="$JAVA_HOME/bin/jlink"; fi
rm -rf "$HERE/jre"
"$JLINK" --add-modules java.base,java.desktop,java.management,java.naming,java.prefs,java.sql,jdk.unsupported,jdk.crypto.ec \
  --output "$HERE/jre" --strip-debug --no-header-files --no-man-pages --generate-cds-archive
echo "made $HERE/jre"
