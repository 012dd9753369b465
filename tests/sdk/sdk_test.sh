#!/bin/bash
# sdk_test.sh BUILD_DIR SOURCE_DIR - the plugin SDK, end to end:
#   1. cmake --install the build into a temporary prefix;
#   2. copy examples/echo-transport out of the source tree and build it with
#      make, knowing only PKG_CONFIG_PATH=<prefix>/.../pkgconfig;
#   3. run the *installed* tale-host with the installed story and echo.so
#      loaded by path, and play commands through it with curl.
# Every wait is bounded; the host is killed on any exit path.
set -euo pipefail

build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
cmake=${CMAKE_COMMAND:-cmake}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tale-sdk-XXXXXX")
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
    if [ -f "$tmp/host.err" ]; then
        echo "--- tale-host stderr ---" >&2
        cat "$tmp/host.err" >&2
    fi
    exit 1
}
step() { echo "== $*"; }

# ---- 1. install ----------------------------------------------------------
prefix=$tmp/prefix
step "cmake --install $build --prefix $prefix"
"$cmake" --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 || {
    cat "$tmp/install.log" >&2
    fail "cmake --install failed"
}
pc=$(find "$prefix" -path '*/pkgconfig/tale-plugin.pc' | head -n 1)
[ -n "$pc" ] || fail "no tale-plugin.pc under $prefix"
[ -f "$prefix/include/tale/plugin.h" ] || fail "tale/plugin.h not installed under $prefix/include"
host_bin=$prefix/bin/tale-host
[ -x "$host_bin" ] || fail "tale-host not installed at $host_bin"
data_dir=$(find "$prefix" -type d -path '*/tale-host/conf' | head -n 1)
[ -n "$data_dir" ] || fail "the default config folder (share/tale-host/conf) is not installed"
story=$data_dir/stories/lighthouse
[ -f "$story/story.yaml" ] || fail "the bundled story is not installed at $story"

# ---- 2. build the example out of tree -------------------------------------
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc")
cflags=$(pkg-config --cflags tale-plugin) || fail "pkg-config --cflags tale-plugin failed"
# The header must come from the install, not from the source tree or from
# some other SDK on the system: that is what "out of tree" means.
want=$(realpath "$prefix/include")
found=
for flag in $cflags; do
    case "$flag" in
    -I*)
        dir=$(realpath -m "${flag#-I}")
        [ "$dir" = "$want" ] && found=1
        case "$dir/" in "$src"/*) fail "pkg-config cflags point into the source tree: $cflags" ;; esac
        ;;
    esac
done
[ -n "$found" ] ||
    fail "pkg-config --cflags tale-plugin gives '$cflags', which does not point at $want (is tale-plugin.pc relocatable?)"

work=$tmp/echo-transport
cp -r "$src/examples/echo-transport" "$work"
rm -f "$work/echo.so"
# As the example's README says: PKG_CONFIG_PATH on make's command line, not
# in the environment (before make 4.4 $(shell) does not see it otherwise).
step "make -C $work PKG_CONFIG_PATH=$PKG_CONFIG_PATH"
env -u PKG_CONFIG_PATH make -C "$work" PKG_CONFIG_PATH="$PKG_CONFIG_PATH" CC="${CC:-cc}" \
    CFLAGS="-O2 -g -Wall -Wextra -Wno-unused-parameter -Werror" >"$tmp/make.log" 2>&1 || {
    cat "$tmp/make.log" >&2
    fail "building the example against the installed SDK failed"
}
grep -qF -- "$cflags" "$tmp/make.log" || fail "the compile line did not use pkg-config's flags: $(cat "$tmp/make.log")"
[ -f "$work/echo.so" ] || fail "make did not produce echo.so"
# A plugin exports exactly one symbol.
exports=$(nm -D --defined-only "$work/echo.so" | awk '$2 ~ /^[TDBR]$/ && $3 !~ /^_/ {print $3}')
[ "$exports" = "tale_plugin_entry" ] || fail "echo.so should export only tale_plugin_entry, exports: $exports"

# ---- 3. run the installed host with it ---------------------------------------
"$host_bin" --version | grep -q "plugin ABI" || fail "tale-host --version does not report the plugin ABI"
step "the installed default config validates with the installed plugins"
"$host_bin" --check-config "$data_dir/tale.yaml" >"$tmp/check-default.log" 2>&1 || {
    cat "$tmp/check-default.log" >&2
    fail "tale-host --check-config $data_dir/tale.yaml failed"
}

cat >"$tmp/tale.yaml" <<EOF
mode: if
story: $story
data_dir: $tmp/var
autosave: false
log_level: info
listeners:
  - host: 127.0.0.1
    port: 0
plugins:
  - name: echo
    module: $work/echo.so
    config:
      path: /play
EOF
step "tale-host --check-config with echo.so"
"$host_bin" --check-config "$tmp/tale.yaml" >"$tmp/check.log" 2>&1 || {
    cat "$tmp/check.log" >&2
    fail "the config that loads echo.so does not validate"
}

step "make install puts echo.so in the SDK's plugin folder, where a bare module name finds it"
env -u PKG_CONFIG_PATH make -C "$work" PKG_CONFIG_PATH="$PKG_CONFIG_PATH" install >"$tmp/make-install.log" 2>&1 || {
    cat "$tmp/make-install.log" >&2
    fail "make install failed"
}
plugindir=$(pkg-config --variable=plugindir tale-plugin)
[ -f "$plugindir/echo.so" ] || fail "make install did not put echo.so into $plugindir"
sed "s|module: $work/echo.so|module: echo|" "$tmp/tale.yaml" >"$tmp/by-name.yaml"
"$host_bin" --check-config "$tmp/by-name.yaml" >"$tmp/check-by-name.log" 2>&1 || {
    cat "$tmp/check-by-name.log" >&2
    fail "module: echo (by name) does not load from the installed plugin folder"
}
grep -q "from $(realpath "$plugindir")/echo.so" "$tmp/check-by-name.log" ||
    fail "module: echo was not loaded from $plugindir: $(cat "$tmp/check-by-name.log")"

step "start the installed tale-host"
"$host_bin" --config "$tmp/tale.yaml" 2>"$tmp/host.err" &
host_pid=$!
port=
for _ in $(seq 1 100); do # up to 10 s
    port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$tmp/host.err" | head -n 1)
    [ -n "$port" ] && break
    kill -0 "$host_pid" 2>/dev/null || fail "tale-host exited before listening"
    sleep 0.1
done
[ -n "$port" ] || fail "tale-host did not log 'listening on' within 10 s"
grep -q "echo" "$tmp/host.err" || fail "the host did not log loading the echo plugin"
url=http://127.0.0.1:$port/play

# post CMDS NAME: POST the commands, keep headers, body and status under NAME.
post() {
    curl -sS --max-time 10 -c "$tmp/jar" -b "$tmp/jar" -D "$tmp/$2.headers" -o "$tmp/$2.body" \
        -w '%{http_code}' -H 'Content-Type: text/plain' --data-binary "$1" "$url" >"$tmp/$2.status" ||
        fail "curl POST $url failed"
}

# check_frames NAME MIN_SEQ: every line is a JSON frame, seqs run on from
# MIN_SEQ+1 without gaps, and the last text frame is a real game frame whose
# location is a location title of the installed story.  Prints the last seq.
check_frames() {
    node - "$tmp/$1.body" "$2" "$story/story.yaml" <<'EOF'
const fs = require('fs');
const [body, minSeq, storyFile] = process.argv.slice(2);
const die = (m) => { console.error(m); process.exit(1); };
const text = fs.readFileSync(body, 'utf8');
if (!text.endsWith('\n')) die(`body does not end with a newline: ${JSON.stringify(text)}`);
const frames = text.slice(0, -1).split('\n').map((l, i) => {
  try { return JSON.parse(l); } catch (e) { return die(`line ${i + 1} is not JSON: ${l}`); }
});
if (frames.length === 0) die('no frames');
let seq = Number(minSeq);
for (const f of frames) {
  if (f.seq !== seq + 1) die(`expected seq ${seq + 1}, got ${JSON.stringify(f)}`);
  seq = f.seq;
  if (f.type !== 'text' && f.type !== 'data') die(`unknown frame type: ${JSON.stringify(f)}`);
}
const last = frames.filter((f) => f.type === 'text').pop();
if (!last || typeof last.text !== 'string' || !last.text.includes('<p')) die(`no HTML text frame: ${text}`);
if (typeof last.location !== 'string' || last.location === '') die(`no location in ${JSON.stringify(last)}`);
const titles = fs.readFileSync(storyFile, 'utf8').split('\n')
  .map((l) => /^\s*title:\s*(.+?)\s*$/.exec(l)).filter(Boolean).map((m) => m[1].replace(/^"|"$/g, ''));
if (!titles.includes(last.location)) die(`location "${last.location}" is not a location of the story (${titles.join(', ')})`);
console.log(seq);
EOF
}

step "POST look (a new player)"
post look first
[ "$(cat "$tmp/first.status")" = 200 ] || fail "POST look answered $(cat "$tmp/first.status"): $(cat "$tmp/first.body")"
grep -qi '^content-type: application/x-ndjson' "$tmp/first.headers" || fail "wrong content type: $(cat "$tmp/first.headers")"
grep -Eqi '^set-cookie: tale_session=[0-9a-f]{32};.*HttpOnly' "$tmp/first.headers" ||
    fail "a new player got no session cookie: $(cat "$tmp/first.headers")"
# The new player gets the whole held backlog from seq 1: the welcome, then the look.
last1=$(check_frames first 0) || fail "first answer: bad frames"
[ "$last1" -ge 2 ] || fail "expected the welcome and the look, got up to seq $last1"

step "POST look again (the same player, by cookie)"
post look second
[ "$(cat "$tmp/second.status")" = 200 ] || fail "second POST answered $(cat "$tmp/second.status")"
if grep -qi '^set-cookie:' "$tmp/second.headers"; then fail "a returning player got a new cookie"; fi
# Only what this command produced: the seqs continue after the first answer.
last2=$(check_frames second "$last1") || fail "second answer: bad frames"
[ "$last2" -gt "$last1" ] || fail "no new frames for the second command"

step "GET is refused"
code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "$url") || fail "curl GET failed"
[ "$code" = 405 ] || fail "GET $url answered $code, expected 405"

step "an empty POST is a bad request"
code=$(curl -sS --max-time 10 -o "$tmp/empty.body" -w '%{http_code}' --data-binary '' "$url") || fail "curl empty POST failed"
[ "$code" = 400 ] || fail "an empty POST answered $code, expected 400"
grep -q '"error"' "$tmp/empty.body" || fail "the 400 has no JSON error body: $(cat "$tmp/empty.body")"

step "SIGTERM: the host exits 0 within 5 s"
kill -TERM "$host_pid"
for _ in $(seq 1 50); do
    kill -0 "$host_pid" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$host_pid" 2>/dev/null; then fail "tale-host still running 5 s after SIGTERM"; fi
rc=0
wait "$host_pid" || rc=$?
host_pid=
[ "$rc" = 0 ] || fail "tale-host exited $rc after SIGTERM"
echo "PASS: installed SDK -> out-of-tree echo.so -> installed host -> game frames over HTTP"
