#!/bin/bash
# out_of_tree.sh BUILD_DIR SOURCE_DIR - the telnet plugin as a third party
# builds it: cmake --install into a temporary prefix, copy plugins/telnet out
# of the source tree, make it against the install (pkg-config tale-plugin and
# zlib only), load it by path in the installed host, check --check-config
# does not bind its port, and play a command over telnet.  Bounded waits; the
# host is killed on any exit path.
set -euo pipefail

build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
cmake=${CMAKE_COMMAND:-cmake}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tale-telnet-sdk-XXXXXX")
host_pid=
cleanup() {
    if [ -n "$host_pid" ] && kill -0 "$host_pid" 2>/dev/null; then
        kill -KILL "$host_pid" 2>/dev/null || true
        wait "$host_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    [ -f "$tmp/host.err" ] && { echo "--- tale-host stderr ---" >&2; cat "$tmp/host.err" >&2; }
    exit 1
}
step() { echo "== $*"; }

prefix=$tmp/prefix
step "cmake --install $build --prefix $prefix"
"$cmake" --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log" >&2; fail "install failed"; }
pc=$(find "$prefix" -path '*/pkgconfig/tale-plugin.pc' | head -n 1)
[ -n "$pc" ] || fail "no tale-plugin.pc under $prefix"
grep -q "TALE_ABI_MINOR [3-9]" "$prefix/include/tale/plugin.h" || fail "the installed SDK is older than ABI 1.3"
host_bin=$prefix/bin/tale-host
story=$(find "$prefix" -type d -path '*/tale-host/conf/stories/lighthouse' | head -n 1)
[ -n "$story" ] || fail "the bundled story is not installed"

step "make the telnet plugin out of tree"
work=$tmp/telnet
mkdir "$work"
cp "$src"/plugins/telnet/{telnet.c,telnet_proto.c,telnet_proto.h,Makefile} "$work/"
# the sources may include nothing of the host's tree: only <tale/...> from the SDK
if grep -hE '^#include "' "$work"/*.c "$work"/*.h | grep -v '"telnet_proto.h"'; then
    fail "the plugin includes a private header"
fi
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc")
make -C "$work" CC="${CC:-cc}" CFLAGS="-O2 -g -Wall -Wextra -Wno-unused-parameter -Werror" >"$tmp/make.log" 2>&1 || {
    cat "$tmp/make.log" >&2
    fail "building the telnet plugin against the installed SDK failed"
}
grep -q -- "-I$(realpath "$prefix")/include\|-I$prefix/[^ ]*include" "$tmp/make.log" || grep -q -- "-I.*prefix.*include" "$tmp/make.log" ||
    fail "the compile line did not use the installed SDK's headers: $(cat "$tmp/make.log")"
grep -q -- "-I$src" "$tmp/make.log" && fail "the compile line points into the source tree"
exports=$(nm -D --defined-only "$work/telnet.so" | awk '$2 ~ /^[TDBR]$/ && $3 !~ /^_/ {print $3}')
[ "$exports" = "tale_plugin_entry" ] || fail "telnet.so should export only tale_plugin_entry, exports: $exports"

# a port we hold ourselves during --check-config: binding it would fail
node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port)});setTimeout(()=>process.exit(0),20000)" >"$tmp/port" &
holder=$!
for _ in $(seq 1 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
port=$(cat "$tmp/port")
[ -n "$port" ] || fail "could not take a port to hold"
cat >"$tmp/tale.yaml" <<EOF
mode: mud
story: $story
data_dir: $tmp/var
autosave: false
log_level: info
listeners:
  - host: 127.0.0.1
    port: 0
plugins:
  - name: telnet
    module: $work/telnet.so
    config:
      listen: 127.0.0.1:$port
EOF
step "--check-config does not bind the telnet port"
"$host_bin" --check-config "$tmp/tale.yaml" >"$tmp/check.log" 2>&1 || { cat "$tmp/check.log" >&2; fail "--check-config failed while the port was taken"; }
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true
sed "s|listen: 127.0.0.1:$port|listen: \"no port\"|" "$tmp/tale.yaml" >"$tmp/bad.yaml"
if "$host_bin" --check-config "$tmp/bad.yaml" >"$tmp/bad.log" 2>&1; then fail "--check-config accepted listen: no port"; fi
grep -q "listen" "$tmp/bad.log" || fail "the bad listen value was not named: $(cat "$tmp/bad.log")"

step "play over telnet"
sed -i "s|listen: 127.0.0.1:$port|listen: 127.0.0.1:0|" "$tmp/tale.yaml"
"$host_bin" --config "$tmp/tale.yaml" 2>"$tmp/host.err" &
host_pid=$!
tport=
for _ in $(seq 1 100); do
    tport=$(sed -n "s|.*plugin 'telnet' listening on 127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p" "$tmp/host.err" | head -n 1)
    [ -n "$tport" ] && break
    kill -0 "$host_pid" 2>/dev/null || fail "tale-host exited before listening"
    sleep 0.1
done
[ -n "$tport" ] || fail "no telnet listener in 10 s"
exec 3<>"/dev/tcp/127.0.0.1/$tport"
printf 'look\r\n' >&3
sleep 1
printf 'quit\r\n' >&3
timeout 5 cat <&3 >"$tmp/session.out" || true
exec 3<&-
grep -aq "The Jetty" "$tmp/session.out" || fail "no look answer over telnet: $(cat -v "$tmp/session.out" | head -c 2000)"
grep -aq "You have left the game" "$tmp/session.out" || fail "quit did not end the session"
kill -TERM "$host_pid"
wait "$host_pid" || fail "the host did not exit cleanly"
host_pid=
echo "OK"
