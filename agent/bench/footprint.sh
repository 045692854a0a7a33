#!/usr/bin/env bash
# Footprint benchmark of the agent on Linux (see BENCHMARKS.md). Not part of the test suite.
#   mvn -B -pl agent -am package -DskipTests && agent/bench/footprint.sh
# The agent runs as the Linux package runs it: the launcher's JVM flags (agent/src/linux/dozor-agent) on the
# runtime make-runtime.sh makes (jlink), talking HTTPS with a ca_file to a sink that answers 204.
# Env: PROCESSES (total processes on the machine to reach, default 300), SECONDS_IDLE (CPU window, 60),
#      LAUNCHES (latency samples, 10), POLL_MS (1000), LAUNCHER (linux, or windows for dozor-agent.cmd's flags),
#      RUNTIME (jlink, or jdk for $JAVA_HOME itself), JVM_FLAGS (to try other flags than the launcher's),
#      EXTRA_FLAGS (appended to them). The agent inherits the environment (e.g. MALLOC_ARENA_MAX=2).
#      Writes agent/target/bench/footprint.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/java-env.sh
JAR=agent/target/dozor-agent.jar
[ -f "$JAR" ] || { echo "build first: mvn -B -pl agent -am package -DskipTests" >&2; exit 1; }
PROCESSES=${PROCESSES:-300}; SECONDS_IDLE=${SECONDS_IDLE:-60}; LAUNCHES=${LAUNCHES:-10}; POLL_MS=${POLL_MS:-1000}
WORK=agent/target/bench; rm -rf "$WORK"; mkdir -p "$WORK/bin"; WORK=$(cd "$WORK" && pwd)
# the launcher's JVM flags, from the launcher itself
LAUNCHER=${LAUNCHER:-linux}; RUNTIME=${RUNTIME:-jlink}
if [ "$LAUNCHER" = windows ]; then
  LAUNCHER_FLAGS=$(grep 'set "JVM_FLAGS=' agent/src/windows/dozor-agent.cmd | sed 's/.*JVM_FLAGS=//; s/"\s*$//')
else
  LAUNCHER_FLAGS=$(grep '^JVM_FLAGS="' agent/src/linux/dozor-agent | sed 's/^JVM_FLAGS="//; s/"\s*$//')
fi
FLAGS=${JVM_FLAGS:-$LAUNCHER_FLAGS}
FLAGS="$FLAGS${EXTRA_FLAGS:+ $EXTRA_FLAGS}"
JAVA=$JAVA_HOME/bin/java
if [ "$RUNTIME" = jlink ]; then
  cp agent/src/linux/make-runtime.sh "$WORK/" && "$WORK/make-runtime.sh" > /dev/null && JAVA=$WORK/jre/bin/java
fi

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# a sink that stores nothing and answers 204 to every POST, over HTTPS (HTTP/1.1, kept alive) like a server
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$WORK/key.pem" \
  -out "$WORK/ca.pem" -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2> /dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 - "$PORT" "$WORK" <<'PY' &
import sys, ssl, http.server
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(204); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H)
tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); tls.load_cert_chain(sys.argv[2] + "/ca.pem", sys.argv[2] + "/key.pem")
server.socket = tls.wrap_socket(server.socket, server_side=True)
server.serve_forever()
PY
pids+=($!)

# idle processes up to $PROCESSES in total
cp /bin/sleep "$WORK/bin/idle"; cp /bin/sleep "$WORK/bin/benchchrome"
# a glob, not ls: a process exiting between the glob and ls would fail the script
count_processes() { local all=(/proc/[0-9]*); echo "${#all[@]}"; }
have=$(count_processes)
for _ in $(seq 1 $((PROCESSES - have))); do "$WORK/bin/idle" 3600 & pids+=($!); done
total=$(count_processes)

cat > "$WORK/agent.ini" <<INI
[server]
url = https://127.0.0.1:$PORT
token = bench
ca_file = $WORK/ca.pem
[monitor]
processes = benchchrome
poll_interval_ms = $POLL_MS
[spool]
dir = $WORK/spool
[log]
dir = $WORK/logs
INI
# shellcheck disable=SC2086
"$JAVA" $FLAGS -jar "$JAR" run --config "$WORK/agent.ini" 2> "$WORK/agent.err" &
AGENT=$!; pids+=($AGENT)
for _ in $(seq 1 300); do grep -q "agent started" "$WORK/agent.err" && break; sleep 0.1; done
sleep 15 # warm-up: class loading and the first compilations are not "idle"

TCK=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$AGENT/stat"; }
t0=$(ticks); s0=$(date +%s%N)
sleep "$SECONDS_IDLE"
t1=$(ticks); s1=$(date +%s%N)
cpu=$(awk -v t=$((t1 - t0)) -v hz="$TCK" -v ns=$((s1 - s0)) 'BEGIN { printf "%.3f", 100 * (t / hz) / (ns / 1e9) }')
rss=$(awk '/VmRSS/ {print int($2/1024)}' "/proc/$AGENT/status")
hwm=$(awk '/VmHWM/ {print int($2/1024)}' "/proc/$AGENT/status")
# RSS = RssAnon (private: heap, metaspace, code cache, stacks, malloc) + RssFile (file-backed, mostly
# shared: libjvm, the CDS archive, the jar) + RssShmem
anon=$(awk '/RssAnon/ {print int($2/1024)}' "/proc/$AGENT/status")
file=$(awk '/RssFile/ {print int($2/1024)}' "/proc/$AGENT/status")
# where the RSS is, by mapping: anonymous memory (heap, metaspace, code cache, malloc, stacks), then files
mappings=$(awk '/^[0-9a-f]+-[0-9a-f]+ / { name = ($6 == "" ? "anonymous" : $6); sub(".*/", "", name); sub(/-[0-9a-f-]{36}-/, "-", name) } /^Rss:/ { rss[name] += $2 }
  END { for (n in rss) if (rss[n] >= 512) printf "%d %s\n", rss[n] / 1024 + 0.5, n }' "/proc/$AGENT/smaps" |
  sort -rn | awk '{ printf "%s%s MB %s", (NR > 1 ? ", " : ""), $1, $2 }')

# detection latency: process start (its own start time) to the agent's "launch detected" line
lat=()
for i in $(seq 1 "$LAUNCHES"); do
  sleep 0.$((RANDOM % 9 + 1))
  "$WORK/bin/benchchrome" 30 & p=$!; pids+=($p); start=$(date +%s%N)
  while ! grep -q "process=benchchrome, pid=$p," "$WORK/agent.err"; do sleep 0.005; done
  lat+=($(( ($(date +%s%N) - start) / 1000000 )))
done
rss_end=$(awk '/VmRSS/ {print int($2/1024)}' "/proc/$AGENT/status")
hwm_end=$(awk '/VmHWM/ {print int($2/1024)}' "/proc/$AGENT/status")
sorted=$(printf '%s\n' "${lat[@]}" | sort -n)
median=$(echo "$sorted" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
max=$(echo "$sorted" | tail -1)

cat > "$WORK/footprint.md" <<MD
| measure | value | target |
|---|---|---|
| processes on the machine | $total | ~300 |
| idle CPU over ${SECONDS_IDLE} s, poll ${POLL_MS} ms | ${cpu} % of one core | ≤ 0.5 % |
| RSS after the idle window (peak) | ${rss} MB (${hwm} MB) | ≤ 64 MB |
| of which RssAnon / RssFile | ${anon} MB / ${file} MB | |
| RSS after the ${LAUNCHES} launches (peak) | ${rss_end} MB (${hwm_end} MB) | ≤ 64 MB |
| by mapping (≥ 0.5 MB) | ${mappings} | |
| detection latency, ${LAUNCHES} launches: median / max | ${median} ms / ${max} ms | ≤ poll + 100 ms = $((POLL_MS + 100)) ms |

JVM: $("$JAVA" -version 2>&1 | head -1) (runtime: $RUNTIME, launcher: $LAUNCHER); flags: \`$FLAGS\`${MALLOC_ARENA_MAX:+; MALLOC_ARENA_MAX=$MALLOC_ARENA_MAX};
$(nproc) cores, $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg).
Latencies (ms): ${lat[*]}
MD
cat "$WORK/footprint.md"
