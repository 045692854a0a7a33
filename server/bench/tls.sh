#!/usr/bin/env bash
# TLS handshake cost of the server (its own process): RSA-2048 vs ECDSA P-256 key, full vs resumed handshakes
# (see BENCHMARKS.md, "Fleet"). Not part of the test suite.
#   server/bench/tls.sh                  CONNECTIONS=1000 server/bench/tls.sh
# Needs what the tests need (PostgreSQL, the testkit's Elasticsearch). Env: CONNECTIONS (10000 per round),
# CONCURRENCY (32 client threads); any DOZOR_* server setting is passed on. Writes server/target/bench/tls-<time>.md.
set -euo pipefail
ulimit -n "$(ulimit -Hn)" # the connections of a round are all held open, in this JVM and in the server
exec "$(dirname "$0")/run.sh" io.dozor.server.bench.TlsHandshakeBenchmark
