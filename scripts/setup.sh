#!/usr/bin/env bash
# Fresh Debian 12 machine -> everything installed, robotrain built, and the main job run end
# to end on the embedded default (scripts/demo.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
exec bash scripts/demo.sh
