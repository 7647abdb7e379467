#pragma once
// Settings for the native libraries under LibTorch (OpenBLAS, GNU OpenMP) that they read from
// the environment once, when they are loaded, before main() can run. The executables this
// project builds get them from an ELF preinit hook (native_runtime_preinit.cpp) that
// re-executes the process with the missing variables set. A variable the user has set always
// wins; ROBOTRAIN_NATIVE_DEFAULTS=0 turns them all off (bench_train_step
// --compare-native-defaults measures both).
//
// - OPENBLAS_CORETYPE: OpenBLAS 0.3.21 does not know recent Xeons (e.g. family 6 model 207)
//   and falls back to its SSE3 "Prescott" kernels; naming the kernels the CPU supports
//   (SkylakeX with AVX-512, Haswell with AVX2) made the ACT transformer's GEMMs ~2x faster.
// - GOMP_SPINCOUNT: LibTorch's OpenMP workers spin ~300k iterations after each parallel
//   region, on the very cores OpenBLAS's own threads then need for the next GEMM; a short
//   spin made the ACT small step 3.6x faster on 2 cores (measured by bench_act_step).

#include <string>
#include <vector>

namespace robotrain::util {

// Names the variables the preinit hook added ("OPENBLAS_CORETYPE,GOMP_SPINCOUNT,"); "0" opts out.
inline constexpr const char* kNativeDefaultsVariable = "ROBOTRAIN_NATIVE_DEFAULTS";

// One line for logs and benchmark output, e.g.
// "OpenBLAS 0.3.21 (SkylakeX kernels, 2 threads), GOMP_SPINCOUNT=10000".
std::string native_runtime_summary();

// The processor's model name from /proc/cpuinfo ("AMD EPYC", "Intel(R) Xeon(R) ..."), or
// "unknown": benchmark results differ by machine and say which one they came from.
std::string cpu_model();

// The variables this process got from the defaults (empty when the user set them all, or
// opted out with ROBOTRAIN_NATIVE_DEFAULTS=0).
std::vector<std::string> native_runtime_defaults_added();

}  // namespace robotrain::util
