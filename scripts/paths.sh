# Sourced by the scripts: where the Python environment with torch and the test peers lives.
# Outside the clone, so a fresh clone (CI) reuses it; cmake/Torch.cmake uses the same default.
export ROBOTRAIN_VENV="${ROBOTRAIN_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/robotrain/venv}"
