#!/usr/bin/env bash
# Install everything tale-host needs to build, run and be tested on Debian 12.
# Run as root (it calls apt-get); as another user it only checks.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config clang
  libh2o-evloop-dev libwslay-dev libyaml-dev libjansson-dev libcmocka-dev libssl-dev zlib1g-dev
  openssl curl ca-certificates valgrind
  libsqlite3-dev libsodium-dev libsystemd-dev
)
# Test-only: real protocol clients (npm) and a browser.
if [ "${TALE_SKIP_TEST_DEPS:-0}" != 1 ]; then
  PACKAGES+=(chromium strace) # strace: tests/hostile/save.test.js checks which thread fsyncs
  # Real parts the integration tests start on loopback: a SQLite shell for
  # integrity checks, a MUD client, reverse proxies, Prometheus and promtool,
  # systemd-analyze for the unit file, and logrotate for the shipped rotation conf.
  PACKAGES+=(sqlite3 tintin++ nginx-light haproxy prometheus systemd logrotate)
  command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
  command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)
fi

if [ "$(id -u)" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"
else
  missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: not root and missing: ${missing[*]}" >&2
    echo "install-deps: run as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi
