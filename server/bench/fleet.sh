#!/usr/bin/env bash
# Fleet benchmark: N simulated agents (enrolled, HTTPS, heartbeats, office load, a 9 o'clock burst, a server
# restart) against the server run as its own process (see BENCHMARKS.md, "Fleet"). Not part of the test suite.
#   server/bench/fleet.sh                     AGENTS=500 OFFICE_S=20 BURST_S=20 server/bench/fleet.sh
# Needs what the tests need: PostgreSQL on 127.0.0.1:5432 for user postgres without a password
# (DOZOR_TEST_PG_URL for another) and the ES zip the testkit build fetches (DOZOR_TEST_ES_URL for a running node).
# Env: AGENTS (10000), OFFICE_S (60), OFFICE_PER_HOUR (30), BURST_S (60), BURST_LAUNCHES (5), HEARTBEAT_S (60),
#      KEEPALIVE_S (default: as the agent, the server's Keep-Alive timeout, else 120 s; 0 = until the server closes), GEN_THREADS (2),
#      AGENTS_PER_ADDRESS (100), ENROLL_CONCURRENCY (16), RESTART (1), RESTART_OBSERVE_S (90), TLS_KEY (rsa | ec),
#      SERVER_JAVA_OPTS (the server's JVM flags, after ./dozor-server's defaults: -Xmx2g wins), JAVA_OPTS (the generator's), ONLY_ENROLL=1 (stop after enrolling);
#      any DOZOR_* server setting is passed on.
# Writes server/target/bench/fleet-<time>.md.
set -euo pipefail
# one descriptor per connection in the generator and in the server (each its own process): the soft limit up to the
# hard one (a deployment sets LimitNOFILE / compose ulimits, see docs/server-settings.md)
ulimit -n "$(ulimit -Hn)"
agents=${AGENTS:-10000}
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((agents + 2000)) ]; then
  echo "fleet.sh: ulimit -n $(ulimit -n) is too low for $agents agents (raise the hard limit)" >&2
  exit 2
fi
# the server's connection cap (http.max_connections, default 4096) must hold the fleet's connections
export DOZOR_HTTP_MAX_CONNECTIONS=${DOZOR_HTTP_MAX_CONNECTIONS:-$((agents + 1000))}
exec "$(dirname "$0")/run.sh" io.dozor.server.bench.FleetBenchmark
