#!/usr/bin/env bash
# run.sh - benchmark a fresh tale-host with tale-bench: one table on stdout and a JSON file.
#
#   bench/run.sh [--smoke] [BUILD_DIR] [-- extra tale-bench options]
#
# Builds nothing: BUILD_DIR (or $TALE_BUILD, default build/) must hold tale-host,
# plugins/ and tale-bench.  $TALE_HOST and $TALE_BENCH override the binaries,
# $TALE_BENCH_JSON the output file (default BUILD_DIR/tale-bench.json), and
# $TALE_BENCH_MODE the game mode (default mud; "if" for a comparison run).
# The host gets a generated config (MUD mode, port 0, the bundled story); we
# learn its port from "listening on http://127.0.0.1:PORT" on its stderr,
# run every scenario, stop it with SIGTERM and require exit status 0.
# --smoke: tiny counts, then assert every scenario reported numbers (never timings).
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
smoke=0
build=${TALE_BUILD:-}
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
    --smoke) smoke=1 ;;
    --) shift; extra=("$@"); break ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    *) build=$1 ;;
    esac
    shift
done
build=${build:-$SRC/build}
HOST=${TALE_HOST:-$build/tale-host}
BENCH=${TALE_BENCH:-$build/tale-bench}
for b in "$HOST" "$BENCH"; do
    [ -x "$b" ] || { echo "run.sh: $b is missing: build the tale-host and tale-bench targets first" >&2; exit 2; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tale-bench.XXXXXX")
JSON=${TALE_BENCH_JSON:-$([ $smoke = 1 ] && echo "$tmp/tale-bench.json" || echo "$build/tale-bench.json")}
host_pid=
cleanup() {
    if [ -n "$host_pid" ] && kill -0 "$host_pid" 2>/dev/null; then
        kill -KILL "$host_pid" 2>/dev/null || true
        wait "$host_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

if [ $smoke = 1 ]; then churn=20; else churn=2000; fi
# MUD mode: every churn connection gets its own seat (IF mode would hand the one
# seat over and replay its whole held backlog each time).  Detached seats are
# reaped after linger, so the footprint after churn can return to its start.
mode=${TALE_BENCH_MODE:-mud}
case "$mode" in
mud) ;;
if)
    # The seat rules (docs/PROTOCOL.md, "Sessions") give the one IF seat to one
    # browser; a connection without its cookie is refused, so the scenarios'
    # fresh connections cannot share an IF game.
    echo "run.sh: TALE_BENCH_MODE=if is no longer supported: the IF seat goes to one browser only (docs/PROTOCOL.md)" >&2
    exit 2
    ;;
*) echo "run.sh: TALE_BENCH_MODE must be mud" >&2; exit 2 ;;
esac
cat >"$tmp/tale.yaml" <<EOF
mode: $mode
story: $SRC/conf/stories/lighthouse
data_dir: $tmp/var
autosave: false
tick: 1s
log_level: info
listeners:
  - host: 127.0.0.1
    port: 0
limits:
  max_sessions: $((churn + 64))
  linger: 2s
  input_rate: 0
  # every client is on 127.0.0.1: the per-address limits would count them as one
  max_sessions_per_address: 0
  new_sessions_per_minute: 0
  max_connections_per_address: 0
plugins:
  - name: static
    module: static
    config:
      web_root: $SRC/web
  - name: ws
    module: ws
    config:
      path: /tale/ws
  - name: sse
    module: sse
EOF

# input_rate: 0 lifts the per-session flood limit (default 20 commands/s, burst
# 40): we measure how fast the transports go, and the limiter would drop most
# of our commands.  A host that predates the key gets the config without it.
if ! "$HOST" --check-config "$tmp/tale.yaml" >/dev/null 2>"$tmp/check.log"; then
    if grep -q input_rate "$tmp/check.log"; then
        sed -i '/^  input_rate: 0$/d' "$tmp/tale.yaml"
    else
        echo "run.sh: the generated config is refused:" >&2
        cat "$tmp/check.log" >&2
        exit 1
    fi
fi

"$HOST" --config "$tmp/tale.yaml" 2>"$tmp/host.log" >/dev/null &
host_pid=$!
port=
for _ in $(seq 1 100); do # up to 10 s
    port=$(grep -m1 -o 'listening on http://127\.0\.0\.1:[0-9]*' "$tmp/host.log" | sed 's/.*://' || true)
    [ -n "$port" ] && break
    kill -0 "$host_pid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$port" ]; then
    echo "run.sh: tale-host did not start listening:" >&2
    cat "$tmp/host.log" >&2
    exit 1
fi
echo "run.sh: tale-host pid $host_pid on port $port ($HOST, $mode mode)" >&2

args=(--port "$port" --pid "$host_pid" --host-bin "$HOST" --config "$tmp/tale.yaml" --json "$JSON")
if [ $smoke = 1 ]; then args+=(--smoke --reap-wait 3.5); else args+=(--reap-wait 4); fi
bench_rc=0
"$BENCH" "${args[@]}" ${extra[@]+"${extra[@]}"} || bench_rc=$?

kill -TERM "$host_pid"
for _ in $(seq 1 80); do # up to 8 s
    kill -0 "$host_pid" 2>/dev/null || break
    sleep 0.1
done
host_rc=0
wait "$host_pid" || host_rc=$?
host_pid=
echo "run.sh: tale-host exited with status $host_rc after SIGTERM" >&2
if [ $smoke = 0 ]; then
    cp "$tmp/host.log" "${JSON%.json}-host.log"
    echo "run.sh: JSON written to $JSON, the host's log to ${JSON%.json}-host.log" >&2
fi

fail=0
if [ "$host_rc" != 0 ]; then
    echo "run.sh: FAIL: tale-host exited $host_rc, not 0" >&2
    tail -20 "$tmp/host.log" >&2
    fail=1
fi
if [ $smoke = 1 ]; then
    # Every scenario must have reported numbers; how fast they were is never asserted here.
    node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const bad = [];
const names = ["tcp-ref", "rtt-ws", "rtt-sse", "pipeline-ws", "churn-ws", "startup"];
// The two-CPU latency rows, unless this machine lets us use one CPU only.
for (const n of ["tcp-ref/2cpu", "rtt-ws/2cpu", "rtt-sse/2cpu"])
  if (!(r.scenarios[n] && /one CPU only/.test(r.scenarios[n].error || ""))) names.push(n);
for (const name of names) {
  const s = r.scenarios[name];
  if (!s || !s.ok || !(s.n > 0) || !(s.median_us > 0)) bad.push(`${name}: ${s && s.error ? s.error : "no numbers"}`);
  else if (name !== "startup" && !(s.rate > 0)) bad.push(`${name}: no rate`);
}
const f = r.scenarios.footprint;
if (!f || !f.idle_ok || !(f.idle_cpu_pct >= 0)) bad.push("footprint: no idle CPU figure");
if (!f || f.snapshots.length < 7 || f.snapshots.some((s) => !(s.rss_kib > 0) || !(s.fds > 0)))
  bad.push("footprint: missing RSS or fd snapshots");
if (!(r.answer_bytes > 0)) bad.push("no answer frame size measured");
if (bad.length) { console.error("run.sh: FAIL:\n  " + bad.join("\n  ")); process.exit(1); }
console.error("run.sh: smoke ok: every scenario reported numbers");
' "$JSON" || fail=1
fi
if [ "$bench_rc" != 0 ]; then
    echo "run.sh: FAIL: tale-bench exited $bench_rc (a scenario failed)" >&2
    fail=1
fi
exit $fail
