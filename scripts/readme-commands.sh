#!/usr/bin/env bash
# Runs README's commands that need no running system, exactly as README shows them, with whatever java is the
# default: each must find a Java 21+ itself. Called by .ci/run after the tests (the jars are built then).
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
run() {
  echo "readme: $*"
  "$@" > "$log.one" 2>&1 || { cat "$log.one"; echo "readme: FAILED: $*" >&2; exit 1; }
  cat "$log.one" >> "$log"; rm -f "$log.one"
}
run ./dozor-build -q
run ./dozor-format
if git rev-parse --git-dir >/dev/null 2>&1 && ! git diff --quiet -- '*.java'; then
  echo "readme: ./dozor-format changed files that ./dozor-test had passed" >&2; exit 1
fi
run ./dozor-server --version
run ./dozor-server --help
for cmd in run "token create" "token list" "token revoke" events "setup elasticsearch" "setup kibana" reindex; do
  # shellcheck disable=SC2086
  run ./dozor-server $cmd --help
done
run ./dozor-agent --version
run ./dozor-agent --help
run ./dozor-dev --help
run promtool check rules prometheus/dozor-alerts.yml
run promtool test rules prometheus/dozor-alerts.test.yml
if grep '^WARNING' "$log"; then echo "readme: the commands above printed JVM warnings" >&2; exit 1; fi
echo "readme: every command ran"
