#!/usr/bin/env bash
# Fairness benchmark of the per-agent rate limit (see BENCHMARKS.md). Not part of the test suite.
#   server/bench/fairness.sh
# Needs what the tests need: PostgreSQL on 127.0.0.1:5432 for user postgres without a password
# (DOZOR_TEST_PG_URL for another) and the ES zip the testkit build fetches (DOZOR_TEST_ES_URL for a running node).
# Env: SECONDS (20 per phase), QUIET_BATCH (10), QUIET_INTERVAL_MS (250), FLOODERS (4), FLOOD_BATCH (100),
#      HTTP_INSTANCES (0 = cores), JAVA_OPTS; any DOZOR_* server setting is passed on.
# Writes server/target/bench/fairness-<time>.md.
set -euo pipefail
exec "$(dirname "$0")/run.sh" io.dozor.server.bench.FairnessBenchmark
