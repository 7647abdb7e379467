#!/usr/bin/env bash
# The sanitizer lanes, LibTorch-free (cmake/Sanitizers.cmake), each in its own build directory:
#   asan  the unit tests of util, dataset, storage, track and platform under AddressSanitizer +
#         UndefinedBehaviorSanitizer, built with clang together with the fuzz harnesses
#         (build-asan; without clang++-14 the tests build with g++ and there are no harnesses)
#   fuzz  every libFuzzer harness of build-asan for FUZZ_SECONDS (default 10) on its seed corpus;
#         a crash, leak, timeout, oversized allocation or sanitizer report fails the lane
#   tsan  the loader, sampler, decoder-pool and multi-threaded reader tests under
#         ThreadSanitizer (build-tsan)
# Usage: scripts/sanitize.sh [asan] [fuzz] [tsan]   (no argument: all three, in that order)
# Prints each lane's wall time at the end. docs/fuzzing.md: the harnesses and longer runs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/paths.sh

lanes=("$@")
[ ${#lanes[@]} -gt 0 ] || lanes=(asan fuzz tsan)
jobs=$(nproc)
launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# Kept short so that CI (build, CTest, these lanes) fits 45 minutes on 2 cores; raise it, or
# run a harness alone (docs/fuzzing.md), for a deeper search.
FUZZ_SECONDS=${FUZZ_SECONDS:-10}
CLANG=${ROBOTRAIN_FUZZ_CXX:-clang++-14}
TORCH_FREE_TESTS=(test_util test_dataset test_storage test_track test_platform)
# Tests that run the robotrain binary, which these builds do not have.
NEEDS_BINARY="ParquetHostileCli.*"
# Everything that runs code on several threads: the loader and its workers, the decoder pool,
# one Parquet reader shared by threads.
TSAN_TESTS="Loader.*:Sampler.*:Video.PoolServesThreadsAndReusesDecoders:VideoAccess.*"
TSAN_TESTS+=":ParquetRoundTrip.OneReaderServesSeveralThreads:*Worker*:*Thread*"
TSAN_TESTS=${SANITIZE_TSAN_FILTER:-$TSAN_TESTS}  # e.g. SANITIZE_TSAN_FILTER='*' for all of test_dataset

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/scripts/sanitize-lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/scripts/sanitize-tsan.supp}
# ThreadSanitizer cannot place its shadow memory under the high mmap randomisation of some
# recent kernels; its tests run without ASLR there.
tsan_prefix=()
if [ "$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 0)" -gt 28 ] && command -v setarch >/dev/null; then
  tsan_prefix=(setarch "$(uname -m)" -R)
fi

configure() {  # DIR cmake-args...
  local dir=$1
  shift
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    cmake -S . -B "$dir" -G Ninja "${launcher[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DROBOTRAIN_VENV="$ROBOTRAIN_VENV" "$@" >/dev/null
  fi
}

asan_lane() {
  if command -v "$CLANG" >/dev/null; then
    configure build-asan -DROBOTRAIN_SANITIZE=address,undefined -DROBOTRAIN_FUZZ=ON -DCMAKE_CXX_COMPILER="$CLANG"
    cmake --build build-asan -j "$jobs" --target "${TORCH_FREE_TESTS[@]}" fuzzers
  else
    echo "sanitize.sh: no $CLANG: ASan tests with the default compiler, no fuzz harnesses" >&2
    configure build-asan -DROBOTRAIN_SANITIZE=address,undefined
    cmake --build build-asan -j "$jobs" --target "${TORCH_FREE_TESTS[@]}"
  fi
  for t in "${TORCH_FREE_TESTS[@]}"; do
    echo "== $t (ASan + UBSan)"
    "build-asan/tests/$t" --gtest_filter="-$NEEDS_BINARY" --gtest_brief=1
  done
}

fuzz_lane() {
  [ -d build-asan/fuzz ] || asan_lane
  for f in build-asan/fuzz/*_fuzzer; do
    local name work
    name=$(basename "$f")
    work=$(mktemp -d)
    echo "== $name for ${FUZZ_SECONDS} s"
    # New inputs go to a scratch corpus: the checked-in seeds stay as they are.
    if ! "$f" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$work/" "$work" "fuzz/corpus/${name%_fuzzer}" >"$work/log" 2>&1; then
      tail -n 40 "$work/log" >&2
      echo "sanitize.sh: $name found a bug; the input is in $work" >&2
      exit 1
    fi
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$work/log" | tr '\n' ' '
    echo
    rm -rf "$work"
  done
}

tsan_lane() {
  configure build-tsan -DROBOTRAIN_SANITIZE=thread
  cmake --build build-tsan -j "$jobs" --target test_dataset
  echo "== test_dataset (TSan) --gtest_filter=$TSAN_TESTS"
  "${tsan_prefix[@]}" build-tsan/tests/test_dataset --gtest_filter="$TSAN_TESTS" --gtest_brief=1
}

summary=()
for lane in "${lanes[@]}"; do
  t0=$(date +%s)
  case "$lane" in
    asan) asan_lane ;;
    fuzz) fuzz_lane ;;
    tsan) tsan_lane ;;
    *) echo "sanitize.sh: unknown lane '$lane' (asan, fuzz, tsan)" >&2; exit 2 ;;
  esac
  summary+=("$lane $(( $(date +%s) - t0 )) s")
done
echo "sanitizer lanes: ${summary[*]}"
