#!/usr/bin/env bash
# Installs everything robotrain needs on Debian 12 (apt) plus the npm test peers
# (DuckDB, Azurite) under tests/node. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libtorch-dev libopenblas0-pthread libopenblas-pthread-dev libjemalloc-dev
  libavformat-dev libavcodec-dev libswscale-dev libavutil-dev ffmpeg
  libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libcli11-dev libyaml-cpp-dev
  libzstd-dev libsnappy-dev zlib1g-dev libpng-dev libbox2d-dev libgloo-dev
  libgtest-dev libgmock-dev nodejs npm
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A newer nodejs (e.g. from NodeSource) already provides npm: don't ask apt for Debian's.
if command -v npm >/dev/null 2>&1; then
  missing=("${missing[@]/npm}")
  missing=("${missing[@]/nodejs}")
fi
read -r -a missing <<< "${missing[*]}"
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

if [ ! -f tests/node/node_modules/@duckdb/node-api/package.json ] || [ ! -d tests/node/node_modules/azurite ]; then
  (cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
fi
