#!/usr/bin/env bash
# Ingest benchmark of the server (see BENCHMARKS.md). Not part of the test suite.
#   server/bench/ingest.sh
# Needs what the tests need: PostgreSQL on 127.0.0.1:5432 for user postgres without a password
# (DOZOR_TEST_PG_URL for another) and the ES zip the testkit build fetches (DOZOR_TEST_ES_URL for a running node).
# Env: CEILING_EVENTS (200000, also the end-to-end count), WARMUP (CEILING_EVENTS: indexed before the ES ceiling, sent before each end-to-end phase),
#      ES_CPUS + REST_CPUS (e.g. 1 and 0: taskset the ES node to its own cores, this JVM and PostgreSQL to the rest),
#      ES_CPU_QUOTA (e.g. 0.5: a cgroup limits the ES node to that many CPUs, as compose `cpus:` does), PG_STREAMS (2), ES_BULK (1000), ES_CONCURRENCY (2), AGENTS (8), BATCH (500),
#      SECONDS (30, the half-load phase), HTTP_INSTANCES (0 = cores), SERVERS (1; 2 = then the end-to-end phase again on two server instances, agents split), JAVA_OPTS; any DOZOR_* server setting is passed on.
# Writes server/target/bench/ingest-<time>.md.
set -euo pipefail
exec "$(dirname "$0")/run.sh" io.dozor.server.bench.IngestBenchmark
