#!/usr/bin/env bash
# Runs one of the server's benchmark main classes (server/src/test/java/io/dozor/server/bench/) on the test
# classpath, with a JDK 21+: server/bench/run.sh CLASS. Used by ingest.sh and fairness.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/java-env.sh
mvn -B -q -pl server -am -DskipTests test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
CP="server/target/test-classes:server/target/classes:$(cat server/target/bench.classpath)"
mkdir -p server/target/bench
# shellcheck disable=SC2086
exec "$JAVA_HOME/bin/java" ${JAVA_OPTS:-} -Ddozor.log.dir=server/target/bench/logs -cp "$CP" "$1"
