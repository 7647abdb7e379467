#!/usr/bin/env bash
# Configures and builds robotrain (Release) into ./build. Extra args go to cmake --build.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/paths.sh
BUILD_DIR=${BUILD_DIR:-build}
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD_DIR" "${generator[@]}" "${launcher[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DROBOTRAIN_VENV="$ROBOTRAIN_VENV"
fi
cmake --build "$BUILD_DIR" -j "$(nproc)" "$@"
