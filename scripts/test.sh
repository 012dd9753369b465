#!/usr/bin/env bash
# Set up and run every test: installs dependencies (as root), builds with
# warnings as errors under gcc and clang, fuzzes every libFuzzer target for
# a minute (TALE_FUZZ_SECONDS), runs the suite under ASan+UBSan, then the
# full suite (unit, integration with real clients, browser, corpus
# replays).  Ends with ctest's summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
(cd tests && npm ci --no-audit --no-fund --loglevel=error)

jobs=$(nproc)

# 1. clang, warnings as errors, with the libFuzzer targets: every target is
#    fuzzed for TALE_FUZZ_SECONDS (60 s unless set), two at a time.
CC=clang cmake -S . -B build-clang -DTALE_WERROR=ON -DBUILD_TESTING=ON -DTALE_FUZZ=ON \
  -DTALE_FUZZ_SECONDS="${TALE_FUZZ_SECONDS:-60}" >/dev/null
cmake --build build-clang -j"$jobs"
ctest --test-dir build-clang --output-on-failure -j2 -L fuzz

# 2. The suite under AddressSanitizer + UndefinedBehaviorSanitizer (no browser:
#    Chromium is not what is being checked there).
cmake -S . -B build-asan -DTALE_SANITIZE=ON -DTALE_WERROR=ON -DTALE_BROWSER_TESTS=OFF -DBUILD_TESTING=ON >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  LSAN_OPTIONS=suppressions="$PWD/tests/lsan.supp" \
  ctest --test-dir build-asan --output-on-failure -j2 --timeout 300

# 3. The whole suite on the gcc build, last, so its summary closes the run.
cmake -S . -B build -DTALE_WERROR=ON -DBUILD_TESTING=ON >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j2 --timeout 600
