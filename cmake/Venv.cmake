# The virtual environment scripts/install-deps.sh makes outside the clone, holding torch (which
# the full build compiles against) and the test peers (which every build's tests run):
# -DROBOTRAIN_VENV or $ROBOTRAIN_VENV, else $XDG_CACHE_HOME/robotrain/venv, else
# ~/.cache/robotrain/venv, as scripts/paths.sh chooses it. ROBOTRAIN_PYTHON is its Python.
# Included by cmake/Torch.cmake (full build) and cmake/Sanitizers.cmake (torch-free builds).
set(ROBOTRAIN_VENV "$ENV{ROBOTRAIN_VENV}" CACHE PATH
    "Virtual environment holding torch and the test peers (default: ~/.cache/robotrain/venv)")
if(NOT ROBOTRAIN_VENV)
  if(DEFINED ENV{XDG_CACHE_HOME} AND NOT "$ENV{XDG_CACHE_HOME}" STREQUAL "")
    set(ROBOTRAIN_VENV "$ENV{XDG_CACHE_HOME}/robotrain/venv")
  else()
    set(ROBOTRAIN_VENV "$ENV{HOME}/.cache/robotrain/venv")
  endif()
endif()
set(ROBOTRAIN_PYTHON "${ROBOTRAIN_VENV}/bin/python" CACHE FILEPATH "Python with torch and the test peers")
