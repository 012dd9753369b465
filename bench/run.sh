#!/usr/bin/env bash
# run.sh - benchmark a fresh tale-host with tale-bench: one table on stdout and a JSON file.
#
#   bench/run.sh [--smoke] [BUILD_DIR] [-- extra tale-bench options]
#   bench/run.sh --mud [N,...] [--crosscheck] [BUILD_DIR] [-- extra tale-bench options]
#   bench/run.sh --instances [N[,LIVE]] [BUILD_DIR] [-- extra tale-bench options]
#   bench/run.sh --telnet [IDLE] [BUILD_DIR] [-- extra tale-bench options]
#   bench/run.sh --deflate [N] [BUILD_DIR]
#   bench/run.sh --accounts [N] [BUILD_DIR]
#
# Builds nothing: BUILD_DIR (or $TALE_BUILD, default build/) must hold tale-host,
# plugins/ and tale-bench.  $TALE_HOST and $TALE_BENCH override the binaries,
# $TALE_BENCH_JSON the output file (default BUILD_DIR/tale-bench.json), and
# $TALE_BENCH_MODE the game mode (default mud; "if" for a comparison run).
# The host gets a generated config (MUD mode, port 0, the bundled story); we
# learn its port from "listening on http://127.0.0.1:PORT" on its stderr,
# run every scenario, stop it with SIGTERM and require exit status 0.
# --smoke: tiny counts, then assert every scenario reported numbers (never
# timings); it ends with a MUD pass of 50 players against a fresh host.
# --mud: only the MUD-scale scenarios, at each player count (default
# 1000,5000,10000), each against a fresh host sized for it: JSON per count in
# BUILD_DIR/tale-bench-mud-N.json, then a table of how each figure grows.
# --crosscheck adds, per count, bench/mud-crosscheck.js (node `ws`, not our
# client) against another fresh host: BUILD_DIR/tale-bench-mud-N-node.json.
# --instances: only the IF-instance scenarios (if-rss, if-visitors, if-return,
# if-restore; default 10000 stored games, 1000 live) against a fresh host in
# `mode: if` with `instances: per_visitor`: BUILD_DIR/tale-bench-instances.json.
# A host whose --check-config refuses that config has no such instances: the
# run says "feature missing" and exits 3; --smoke says so and skips them.
# --telnet: only the telnet scenarios (tcp-ref + rtt-telnet interleaved,
# churn-telnet, idle-telnet with IDLE connections, default 5000) against a
# fresh MUD host with the telnet plugin: BUILD_DIR/tale-bench-telnet.json.
# --deflate: only bench/deflate.js (node `ws` with permessage-deflate): bytes on
# the walkthrough, host CPU per frame and RSS per connection with the ws
# plugin's deflate on and off, N players (default 200) against fresh hosts:
# BUILD_DIR/tale-bench-deflate.json.
# --accounts: bench/accounts.js (node `ws`) against a fresh MUD host with
# `accounts: optional`: N accounts (default 100), logins per second and the
# loop's round trips while the N log in at once: BUILD_DIR/tale-bench-accounts.json.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
smoke=0
mud=
instances=
telnet=
accounts=
crosscheck=0
deflate=
build=${TALE_BUILD:-}
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
    --smoke) smoke=1 ;;
    --mud)
        mud=1000,5000,10000
        if [[ ${2:-} =~ ^[0-9]+(,[0-9]+)*$ ]]; then
            mud=$2
            shift
        fi
        ;;
    --crosscheck) crosscheck=1 ;;
    --telnet)
        telnet=5000
        if [[ ${2:-} =~ ^[0-9]+$ ]]; then
            telnet=$2
            shift
        fi
        ;;
    --deflate)
        deflate=200
        if [[ ${2:-} =~ ^[0-9]+$ ]]; then
            deflate=$2
            shift
        fi
        ;;
    --accounts)
        accounts=100
        if [[ ${2:-} =~ ^[0-9]+$ ]]; then
            accounts=$2
            shift
        fi
        ;;
    --instances)
        instances=10000,1000
        if [[ ${2:-} =~ ^[0-9]+(,[0-9]+)?$ ]]; then
            instances=$2
            shift
        fi
        ;;
    --) shift; extra=("$@"); break ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) build=$1 ;;
    esac
    shift
done
build=${build:-$SRC/build}
HOST=${TALE_HOST:-$build/tale-host}
if [ -n "$deflate" ]; then
    [ -x "$HOST" ] || { echo "run.sh: $HOST is missing: build the tale-host target first" >&2; exit 2; }
    TALE_HOST=$HOST exec node "$SRC/bench/deflate.js" --players "$deflate" --json "${TALE_BENCH_JSON:-$build/tale-bench-deflate.json}"
fi
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
# reaped after limits.linger, so the footprint after churn can return to its start.
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

# config_common: the keys every generated config shares: the bundled story,
# one loopback listener on port 0, the per-address limits (the caller has
# opened `limits:`) and the plugins.
config_listener() {
    echo "story: $SRC/conf/stories/lighthouse"
    echo "data_dir: $tmp/var"
    echo "tick: 1s"
    echo "log_level: info"
    echo "listeners:"
    echo "  - host: 127.0.0.1"
    echo "    port: 0"
}
config_common() {
    echo "  # every client is on 127.0.0.1: the per-address limits would count them as one"
    echo "  max_sessions_per_address: 0"
    echo "  new_sessions_per_minute: 0"
    echo "  max_connections_per_address: 0"
    echo "plugins:"
    echo "  - name: static"
    echo "    module: static"
    echo "    config:"
    echo "      web_root: $SRC/web"
    echo "  - name: ws"
    echo "    module: ws"
    echo "    config:"
    echo "      path: /tale/ws"
    echo "  - name: sse"
    echo "    module: sse"
}

# write_config FILE SESSIONS [PLAYERS]: the host's config.  With PLAYERS (the
# MUD-scale runs): room for that many seats and connections (an SSE player
# holds two), the default input_rate (mud-bystander's yellers yell at it) and
# a 2 s linger.
write_config() {
    local file=$1 sessions=$2 players=${3:-}
    {
        echo "mode: $mode"
        config_listener
        echo "autosave: false"
        echo "limits:"
        echo "  max_sessions: $sessions"
        echo "  linger: 2s"
        if [ -n "$players" ]; then
            echo "  max_connections: $((players + players / 10 + 64))"
        else
            echo "  input_rate: 0"
        fi
        config_common
    } >"$file"
    # input_rate: 0 lifts the per-session flood limit (default 20 commands/s,
    # burst 40): the transport scenarios measure how fast the transports go, and
    # the limiter would drop most of their commands.
    if ! "$HOST" --check-config "$file" >/dev/null 2>"$tmp/check.log"; then
        echo "run.sh: the generated config is refused:" >&2
        cat "$tmp/check.log" >&2
        exit 1
    fi
}

# start_host CONFIG LOG: start tale-host; sets host_pid and port.
start_host() {
    "$HOST" --config "$1" 2>"$2" >/dev/null &
    host_pid=$!
    port=
    for _ in $(seq 1 100); do # up to 10 s
        port=$(grep -m1 -o 'listening on http://127\.0\.0\.1:[0-9]*' "$2" | sed 's/.*://' || true)
        [ -n "$port" ] && break
        kill -0 "$host_pid" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$port" ]; then
        echo "run.sh: tale-host did not start listening:" >&2
        cat "$2" >&2
        exit 1
    fi
    echo "run.sh: tale-host pid $host_pid on port $port ($HOST, $mode mode)" >&2
}

# stop_host LOG [SECONDS]: SIGTERM, wait up to SECONDS (default 8, then
# SIGKILL); a status other than 0 fails the run.
stop_host() {
    local rc=0
    kill -TERM "$host_pid"
    for _ in $(seq 1 $((${2:-8} * 10))); do
        kill -0 "$host_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$host_pid" 2>/dev/null && kill -KILL "$host_pid"
    wait "$host_pid" || rc=$?
    host_pid=
    echo "run.sh: tale-host exited with status $rc after SIGTERM" >&2
    if [ "$rc" != 0 ]; then
        echo "run.sh: FAIL: tale-host exited $rc, not 0" >&2
        tail -20 "$1" >&2
        fail=1
    fi
}

# mud_run N JSON: the MUD-scale scenarios at N players against a fresh host.
mud_run() {
    local n=$1 json=$2 rc=0
    write_config "$tmp/mud.yaml" $((n + 64)) "$n"
    # mud-leave waits at least the 2 s, a tick (1 s) for the reaping, the host's
    # malloc_trim (checked every 500 ms, at most every 2 s), and margin: 5 s.
    echo "run.sh: MUD at $n players; closed players are reaped by limits.linger (2 s)" >&2
    start_host "$tmp/mud.yaml" "$tmp/mud-host.log"
    local margs=(--port "$port" --pid "$host_pid" --mud "$n" --json "$json" --mud-reap-min 5)
    [ $smoke = 1 ] && margs+=(--smoke --mud-wave 25 --mud-window 1 --mud-reap-min 3 --mud-reap 6)
    if [ $smoke = 0 ]; then
        # Warm-up: a crowd of 50 comes, plays and leaves before the measured
        # run, so mud-leave's "start" is a host that has served players (its
        # code paths faulted in, h2o's pools made), not one fresh from exec.
        "$BENCH" --port "$port" --pid "$host_pid" --mud 50 --smoke --mud-wave 25 --mud-window 1 --mud-reap-min 3 \
            --mud-reap 6 >/dev/null 2>&1 || echo "run.sh: the warm-up crowd reported a failure (ignored)" >&2
    fi
    "$BENCH" "${margs[@]}" ${extra[@]+"${extra[@]}"} || rc=$?
    if [ "$rc" != 0 ]; then
        echo "run.sh: FAIL: tale-bench --mud $n exited $rc (a MUD scenario reported no numbers)" >&2
        fail=1
    fi
    # A host that still holds a crowd ends each seat on the way out; give it a minute.
    stop_host "$tmp/mud-host.log" 60
    [ $smoke = 1 ] || cp "$tmp/mud-host.log" "${json%.json}-host.log"
    if [ $crosscheck = 1 ]; then
        start_host "$tmp/mud.yaml" "$tmp/mud-host.log"
        local fds0
        fds0=$(ls "/proc/$host_pid/fd" | wc -l)
        if ! node "$SRC/bench/mud-crosscheck.js" --port "$port" --players "$n" --json "${json%.json}-node.json"; then
            echo "run.sh: FAIL: mud-crosscheck.js at $n players" >&2
            fail=1
        fi
        # Its players are gone: let the host see the closes and reap the seats (as mud-leave does) before SIGTERM.
        for _ in $(seq 1 120); do # up to 30 s
            [ "$(ls "/proc/$host_pid/fd" | wc -l)" -le "$fds0" ] && break
            sleep 0.25
        done
        sleep 4
        stop_host "$tmp/mud-host.log" 60
    fi
}

# write_inst_config FILE LIVE WAVE: per-visitor IF instances, at most LIVE
# in memory (the rest evicted to data_dir), room for LIVE connected visitors
# and two waves more.  0 if the host takes it; otherwise its first complaint
# is in $tmp/check.log.
write_inst_config() {
    local file=$1 live=$2 wave=$3
    {
        echo "mode: if"
        echo "instances: per_visitor"
        config_listener
        echo "limits:"
        echo "  max_live_worlds: $live"
        echo "  world_idle: 10m"
        echo "  max_stored_worlds: 100000"
        echo "  max_stored_bytes: 1g"
        echo "  max_connections: $((live + 2 * wave + 64))"
        config_common
    } >"$file"
    "$HOST" --check-config "$file" >/dev/null 2>"$tmp/check.log"
}

# inst_run STORED LIVE JSON: the IF-instance scenarios against a fresh host;
# 3 when the host has no per-visitor instances.
inst_run() {
    local stored=$1 live=$2 json=$3 rc=0 wave=100 mode="if, per_visitor" # mode: start_host's label
    [ $smoke = 1 ] && wave=10
    if ! write_inst_config "$tmp/inst.yaml" "$live" "$wave"; then
        echo "run.sh: feature missing: this tale-host refuses the per-visitor instances config (instances: per_visitor):" >&2
        grep -m1 -i 'error' "$tmp/check.log" >&2 || head -1 "$tmp/check.log" >&2
        return 3
    fi
    start_host "$tmp/inst.yaml" "$tmp/inst-host.log"
    local iargs=(--port "$port" --pid "$host_pid" --instances "$stored" --inst-live "$live" --inst-data-dir "$tmp/var"
        --json "$json")
    [ $smoke = 1 ] && iargs+=(--smoke)
    "$BENCH" "${iargs[@]}" ${extra[@]+"${extra[@]}"} || rc=$?
    if [ "$rc" = 3 ]; then
        echo "run.sh: feature missing: the host took the config but gives no game per visitor (tale-bench above)" >&2
    elif [ "$rc" != 0 ]; then
        echo "run.sh: FAIL: tale-bench --instances $stored exited $rc (a scenario reported no numbers)" >&2
        fail=1
    fi
    # Shutdown saves every live game: give it a minute.
    stop_host "$tmp/inst-host.log" 60
    [ $smoke = 1 ] || cp "$tmp/inst-host.log" "${json%.json}-host.log"
    [ "$rc" = 3 ] && return 3
    return 0
}

# telnet_run IDLE JSON: the telnet scenarios against a fresh MUD host whose
# telnet plugin listens on a port of its own (read from its log).
telnet_run() {
    local idle=$1 json=$2 rc=0
    write_config "$tmp/telnet.yaml" $((churn + 64))
    # room for the idle crowd on top of the players; the crowd never speaks, so it takes no seats
    sed -i "s/^limits:/limits:\n  max_connections: $((idle + churn + 200))/" "$tmp/telnet.yaml"
    {
        echo "  - name: telnet"
        echo "    module: telnet"
        echo "    config:"
        echo "      listen: 127.0.0.1:0"
        echo "      login_timeout: 2m"
    } >>"$tmp/telnet.yaml"
    "$HOST" --check-config "$tmp/telnet.yaml" >/dev/null 2>"$tmp/check.log" || {
        echo "run.sh: the telnet config is refused:" >&2
        cat "$tmp/check.log" >&2
        return 1
    }
    start_host "$tmp/telnet.yaml" "$tmp/telnet-host.log"
    local tport=
    for _ in $(seq 1 50); do
        tport=$(grep -m1 -o "plugin 'telnet' listening on 127\.0\.0\.1:[0-9]*" "$tmp/telnet-host.log" | sed 's/.*://' || true)
        [ -n "$tport" ] && break
        sleep 0.1
    done
    [ -n "$tport" ] || { echo "run.sh: FAIL: no telnet listener in the host's log" >&2; fail=1; stop_host "$tmp/telnet-host.log"; return 1; }
    local targs=(--port "$port" --pid "$host_pid" --telnet "$tport" --telnet-idle "$idle" --json "$json")
    [ $smoke = 1 ] && targs+=(--smoke --telnet-idle "$idle")
    "$BENCH" "${targs[@]}" ${extra[@]+"${extra[@]}"} || rc=$?
    if [ "$rc" != 0 ]; then
        echo "run.sh: FAIL: tale-bench --telnet exited $rc (a scenario reported no numbers)" >&2
        fail=1
    fi
    stop_host "$tmp/telnet-host.log" 30
}

# accounts_run N JSON: logins against a fresh MUD host with accounts: optional.
accounts_run() {
    local n=$1 json=$2
    {
        echo "mode: mud"
        echo "accounts: optional"
        config_listener
        echo "limits:"
        echo "  input_rate: 0"
        echo "  max_sessions: $((n * 2 + 64))"
        echo "  max_connections: $((n * 2 + 64))"
        echo "  accounts_per_address_per_hour: 0"
        config_common
    } >"$tmp/accounts.yaml"
    if ! "$HOST" --check-config "$tmp/accounts.yaml" >/dev/null 2>"$tmp/check.log"; then
        echo "run.sh: feature missing: this tale-host refuses 'accounts: optional':" >&2
        head -1 "$tmp/check.log" >&2
        return 3
    fi
    start_host "$tmp/accounts.yaml" "$tmp/accounts-host.log"
    if ! node "$SRC/bench/accounts.js" --port "$port" --players "$n" --json "$json"; then
        echo "run.sh: FAIL: bench/accounts.js at $n players" >&2
        fail=1
    fi
    stop_host "$tmp/accounts-host.log" 60
}

fail=0
if [ -n "$telnet" ]; then
    telnet_run "$telnet" "$([ $smoke = 1 ] && echo "$tmp/tale-bench-telnet.json" || echo "$build/tale-bench-telnet.json")"
    exit $fail
fi
if [ -n "$accounts" ]; then
    arc=0
    accounts_run "$accounts" "$build/tale-bench-accounts.json" || arc=$?
    [ "$arc" = 3 ] && exit 3
    exit $fail
fi
if [ -n "$instances" ]; then
    irc=0
    inst_run "${instances%%,*}" "$([[ $instances == *,* ]] && echo "${instances#*,}" || echo 1000)" \
        "$build/tale-bench-instances.json" || irc=$?
    [ "$irc" = 3 ] && exit 3
    exit $fail
fi
if [ -n "$mud" ]; then
    jsons=()
    for n in ${mud//,/ }; do
        mud_run "$n" "$build/tale-bench-mud-$n.json"
        jsons+=("$build/tale-bench-mud-$n.json")
    done
    node "$SRC/bench/mud-summary.js" "${jsons[@]}" || fail=1
    exit $fail
fi

write_config "$tmp/tale.yaml" $((churn + 64))
start_host "$tmp/tale.yaml" "$tmp/host.log"

args=(--port "$port" --pid "$host_pid" --host-bin "$HOST" --config "$tmp/tale.yaml" --json "$JSON")
if [ $smoke = 1 ]; then args+=(--smoke --reap-wait 3.5); else args+=(--reap-wait 4); fi
bench_rc=0
"$BENCH" "${args[@]}" ${extra[@]+"${extra[@]}"} || bench_rc=$?

stop_host "$tmp/host.log"
if [ $smoke = 0 ]; then
    cp "$tmp/host.log" "${JSON%.json}-host.log"
    echo "run.sh: JSON written to $JSON, the host's log to ${JSON%.json}-host.log" >&2
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
    # The MUD scenarios on a crowd of 50: each must report its figures (never judged).
    mud_run 50 "$tmp/tale-bench-mud.json"
    node "$SRC/bench/mud-summary.js" --check "$tmp/tale-bench-mud.json" || fail=1
    # The IF-instance scenarios on 50 games, 20 live, if this host has them.
    inst_run 50 20 "$tmp/tale-bench-instances.json" ||
        echo "run.sh: skip: the IF-instance smoke (this host has no per-visitor instances)" >&2
fi
if [ "$bench_rc" != 0 ]; then
    echo "run.sh: FAIL: tale-bench exited $bench_rc (a scenario failed)" >&2
    fail=1
fi
exit $fail
