#!/usr/bin/env bash
# Installs everything robotrain needs on Debian 12. Safe to run again: each part is skipped
# when it is already in place.
#   1. Debian packages (compiler, FFmpeg, libcurl, ...).
#   2. A Python >= 3.12 virtual environment outside the clone ($ROBOTRAIN_VENV, default
#      ~/.cache/robotrain/venv) with requirements.txt: PyTorch's wheel (the LibTorch robotrain
#      builds against) and the real test peers (LeRobot, MLflow, pyarrow, duckdb, huggingface_hub).
#   3. Azurite (the Azure Blob emulator) under tests/node: `npm ci` where the npm registry
#      answers, else the copy with its dependencies in ../shared/peers/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/paths.sh

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates ccache
  libjemalloc-dev libavformat-dev libavcodec-dev libswscale-dev libavutil-dev ffmpeg
  libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libcli11-dev libyaml-cpp-dev
  libzstd-dev libsnappy-dev zlib1g-dev libpng-dev liblz4-dev libbrotli-dev libpugixml-dev
  libbox2d-dev libgloo-dev libgtest-dev libgmock-dev clang libclang-rt-dev nodejs
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A newer nodejs (e.g. NodeSource's) may already be on PATH: keep it.
if command -v node >/dev/null 2>&1; then
  missing=("${missing[@]/nodejs}")
fi
read -r -a missing <<< "${missing[*]}"
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

# Python >= 3.12 for LeRobot 0.5.1: $ROBOTRAIN_BASE_PYTHON, one on PATH, or one of pyenv's.
find_python() {
  local c
  for c in "${ROBOTRAIN_BASE_PYTHON:-}" python3.13 python3.12 python3 \
           "$HOME"/.pyenv/versions/3.13*/bin/python3 "$HOME"/.pyenv/versions/3.12*/bin/python3; do
    [ -n "$c" ] || continue
    command -v "$c" >/dev/null 2>&1 || continue
    if "$c" -c 'import sys, venv, ssl, sqlite3; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      command -v "$c"
      return 0
    fi
  done
  return 1
}

stamp="$ROBOTRAIN_VENV/.robotrain-requirements"
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ ! -x "$ROBOTRAIN_VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  if [ ! -x "$ROBOTRAIN_VENV/bin/python" ]; then
    base=$(find_python) || {
      echo "install-deps: no Python >= 3.12 found (LeRobot 0.5.1 needs one); install one (e.g. pyenv install 3.12)" \
           "and set ROBOTRAIN_BASE_PYTHON=/path/to/python3.12" >&2
      exit 1
    }
    echo "creating $ROBOTRAIN_VENV with $base"
    "$base" -m venv "$ROBOTRAIN_VENV"
  fi
  echo "installing requirements.txt into $ROBOTRAIN_VENV (torch 2.10 with its CUDA runtime: a few GB, once)"
  "$ROBOTRAIN_VENV/bin/pip" install --quiet --disable-pip-version-check -r requirements.txt
  echo "$want" > "$stamp"
fi

# Azurite: npm where the registry answers, else the packaged copy beside the project.
if [ ! -x tests/node/node_modules/.bin/azurite-blob ]; then
  tarball=$(ls ../shared/peers/azurite-*-node_modules.tgz 2>/dev/null | head -1 || true)
  if command -v npm >/dev/null 2>&1 && timeout 10 npm ping >/dev/null 2>&1; then
    (cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
  elif [ -n "$tarball" ]; then
    echo "npm registry unreachable: Azurite from $tarball"
    unpack=$(mktemp -d)
    tar -xzf "$tarball" -C "$unpack"
    rm -rf tests/node/node_modules
    mv "$unpack/node_modules" tests/node/node_modules
    rm -rf "$unpack"
  else
    echo "install-deps: Azurite needs the npm registry or ../shared/peers/azurite-*-node_modules.tgz" >&2
    exit 1
  fi
fi
