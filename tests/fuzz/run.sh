#!/bin/sh
# Fuzz one target, or all of them, for a while.
#
#   tests/fuzz/run.sh [--bindir DIR] TARGET|all SECONDS [extra libFuzzer args...]
#
# TARGET is one of: config story command render save character ws_input ws_handshake ws_frames
# form static_path json_compact telnet frame_text login.  Without
# --bindir the fuzzers are built in build-fuzz/ (clang, TALE_FUZZ=ON) first.
# New inputs that reach new code go to <bindir>/corpus-new/TARGET (merge the
# useful ones into tests/fuzz/corpus/TARGET by hand, e.g. with -merge=1);
# a crash leaves its input in <bindir>/artifacts/ and the script fails.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
targets="config story command render save character ws_input ws_handshake ws_frames form static_path json_compact telnet frame_text login"

bindir=
if [ "${1:-}" = "--bindir" ]; then
    bindir=$2
    shift 2
fi
if [ $# -lt 2 ]; then
    echo "usage: $0 [--bindir DIR] TARGET|all SECONDS [libFuzzer args...]" >&2
    echo "targets: $targets" >&2
    exit 2
fi
target=$1 seconds=$2
shift 2
case " all $targets " in
*" $target "*) ;;
*)
    echo "unknown target '$target'; one of: all $targets" >&2
    exit 2
    ;;
esac

if [ -z "$bindir" ]; then
    build=${TALE_FUZZ_BUILD:-$src/build-fuzz}
    if [ ! -f "$build/CMakeCache.txt" ]; then
        CC=clang cmake -S "$src" -B "$build" -DTALE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    fi
    if [ "$target" = all ]; then
        build_targets=$(for t in $targets; do printf 'fuzz_%s ' "$t"; done)
    else
        build_targets=fuzz_$target
    fi
    # shellcheck disable=SC2086 # one word per target
    cmake --build "$build" -j"${TALE_FUZZ_JOBS:-2}" --target $build_targets
    bindir=$build/tests/fuzz
fi

run_one() {
    t=$1
    shift
    bin=$bindir/fuzz_$t
    if [ ! -x "$bin" ]; then
        echo "$bin: not built (configure with CC=clang -DTALE_FUZZ=ON)" >&2
        return 1
    fi
    mkdir -p "$bindir/corpus-new/$t" "$bindir/artifacts"
    set -- -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$bindir/artifacts/$t-" "$@"
    if [ -f "$here/dict/$t.dict" ]; then
        set -- "$@" -dict="$here/dict/$t.dict"
    fi
    echo "== fuzzing $t for ${seconds}s" >&2
    # the first folder receives new inputs; the checked-in seeds are read only
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$src/tests/lsan.supp} \
        "$bin" "$@" "$bindir/corpus-new/$t" "$here/corpus/$t"
}

if [ "$target" = all ]; then
    failed=
    for t in $targets; do
        run_one "$t" "$@" || failed="$failed $t"
    done
    if [ -n "$failed" ]; then
        echo "crashed or failed:$failed" >&2
        exit 1
    fi
else
    run_one "$target" "$@"
fi
