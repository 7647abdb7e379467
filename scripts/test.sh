#!/usr/bin/env bash
# Installs dependencies, builds, and runs the whole test suite through CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
cd "${BUILD_DIR:-build}"
# CUDA-labelled tests need a GPU: scripts/gpu-check.sh runs them.
ctest --output-on-failure -j "$(nproc)" --timeout 1200 -LE cuda "$@"
[ "${ROBOTRAIN_SANITIZE_LANES:-1}" = 0 ] || bash "$OLDPWD/scripts/sanitize.sh"  # ASan+UBSan, TSan, fuzz: docs/fuzzing.md
