#!/usr/bin/env bash
# Set up and run the game on the default config (conf/tale.yaml):
# installs dependencies (as root), builds, and starts tale-host on
# http://127.0.0.1:8180/ .  Extra arguments go to tale-host.
set -euo pipefail
cd "$(dirname "$0")/.."
TALE_SKIP_TEST_DEPS=1 scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
cmake --build build -j"$(nproc)"
echo "tale-host: open http://127.0.0.1:8180/ in a browser (Ctrl-C stops the server)"
exec build/tale-host "$@"
