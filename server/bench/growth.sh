#!/usr/bin/env bash
# Growth benchmark: the admin API's queries, ingest and reindex as events grows to 1 M and 10 M rows (see
# BENCHMARKS.md). Not part of the test suite.
#   server/bench/growth.sh
# Needs what the tests need: PostgreSQL on 127.0.0.1:5432 for user postgres without a password
# (DOZOR_TEST_PG_URL for another) and the ES zip the testkit build fetches (DOZOR_TEST_ES_URL for a running node).
# 10 M rows take about 4 GB in PostgreSQL (the benchmark's own database, dropped at the end).
# Env: ROWS (1000000,10000000: the sizes, loaded by COPY), HOSTS (5000 agents), USERS (3000), QUERIES (200 of
#      each kind), INGEST_EVENTS (100000), INGEST_ROUNDS (3), WARMUP (INGEST_EVENTS, sent before the first round),
#      AGENTS (8) and BATCH (500) of the ingest, ES_CPUS + REST_CPUS or ES_CPU_QUOTA (where ES runs: see ingest.sh),
#      REINDEX (1; 0 leaves the reindex out), REINDEX_SECONDS (0; stop it after that long), HTTP_INSTANCES (0 = cores), JAVA_OPTS; any DOZOR_* server setting is passed on.
# Writes server/target/bench/growth-<time>.md.
set -euo pipefail
exec "$(dirname "$0")/run.sh" io.dozor.server.bench.GrowthBenchmark
