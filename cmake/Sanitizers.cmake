# The sanitizer and fuzzing builds (scripts/sanitize.sh), each in its own build directory.
#
#   -DROBOTRAIN_SANITIZE=address,undefined   ASan + UBSan (any -fsanitize= list; UBSan aborts on
#                                            the first report so a test fails on it)
#   -DROBOTRAIN_SANITIZE=thread              ThreadSanitizer
#   -DROBOTRAIN_FUZZ=ON                      libFuzzer harnesses under fuzz/ (clang), ASan + UBSan
#
# Both build only the LibTorch-free areas (util, dataset, track, storage, platform) and their unit
# tests: compiling LibTorch's headers twice more would cost CI far more than the lanes are worth,
# and LibTorch itself is not instrumented, so its areas would gain little.
set(ROBOTRAIN_SANITIZE "" CACHE STRING "Sanitizers for every target, e.g. address,undefined or thread")
option(ROBOTRAIN_FUZZ "Build the libFuzzer harnesses under fuzz/ (clang only)" OFF)

set(ROBOTRAIN_TORCH_FREE OFF)
if(ROBOTRAIN_SANITIZE OR ROBOTRAIN_FUZZ)
  set(ROBOTRAIN_TORCH_FREE ON)
endif()

set(_rt_sanitize "${ROBOTRAIN_SANITIZE}")
if(ROBOTRAIN_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "ROBOTRAIN_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++-14")
  endif()
  if(NOT _rt_sanitize)
    set(_rt_sanitize "address,undefined")
  endif()
endif()

if(_rt_sanitize)
  string(REPLACE " " "" _rt_sanitize "${_rt_sanitize}")
  # -O1 -g1: line numbers in reports, and a build a third faster than -O2 -g.
  set(_rt_san_flags -fsanitize=${_rt_sanitize} -fno-omit-frame-pointer -O1 -g1)
  if(_rt_sanitize MATCHES "undefined")
    # A UBSan report is a failure, not a log line; the vptr check needs RTTI of every library.
    list(APPEND _rt_san_flags -fno-sanitize-recover=undefined -fno-sanitize=vptr)
  endif()
  if(ROBOTRAIN_FUZZ)
    list(APPEND _rt_san_flags -fsanitize=fuzzer-no-link)
  endif()
  add_compile_options(${_rt_san_flags})
  add_link_options(-fsanitize=${_rt_sanitize})
  add_compile_definitions(ROBOTRAIN_SANITIZED=1)
  message(STATUS "robotrain: sanitized torch-free build (-fsanitize=${_rt_sanitize})")
endif()

# The Python environment with the test peers (cmake/Torch.cmake finds it in the full build).
if(ROBOTRAIN_TORCH_FREE)
  include(${CMAKE_CURRENT_LIST_DIR}/Venv.cmake)
endif()

# Code that runs before the sanitizer runtime has started (ELF preinit hooks) must not be
# instrumented: its first checked memory access would read shadow memory not yet mapped.
function(rt_sanitize_exempt target)
  if(_rt_sanitize)
    target_compile_options(${target} PRIVATE -fno-sanitize=all)
  endif()
endfunction()
