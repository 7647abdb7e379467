#pragma once
// Settings for the native libraries under LibTorch that they read from the environment once,
// when they are loaded, before main() can run. The executables this project builds get them
// from an ELF preinit hook (native_runtime_preinit.cpp) that re-executes the process with the
// missing variables set. A variable the user has set always wins; ROBOTRAIN_NATIVE_DEFAULTS=0
// turns them all off (bench_train_step --compare-native-defaults measures each setting, alone
// and together, against the libraries' own defaults).
//
// - GOMP_SPINCOUNT=10000: the torch wheel runs LibTorch's CPU kernels and MKL's (the wheel's
//   BLAS, GNU-threaded) on one OpenMP pool, its bundled libgomp, whose workers spin 300k
//   iterations after each parallel region before they sleep. That spin takes the cores from
//   everything else the process runs between two parallel regions: the loader's decoding
//   threads, the autograd engine's own thread, single-threaded ops.
//
// Nothing else pays here any more. The wheel's BLAS is MKL, not Debian's OpenBLAS, so
// OPENBLAS_CORETYPE (which once picked AVX-512 kernels OpenBLAS 0.3.21 did not detect) is
// gone. Measured with bench_train_step --compare-native-defaults (ACT small, 2-core AMD EPYC,
// medians of 3 interleaved rounds, a shared machine): against the libraries' defaults the
// short spin with util/memory.h's malloc policy is 1.07x, the malloc policy alone 1.03x, the
// spin alone 0.99x (it pays when loader threads share the cores, which that benchmark does
// not load); MKL_ENABLE_INSTRUCTIONS=AVX512 on top adds nothing (1.08x) and
// OMP_WAIT_POLICY=passive loses (0.92x), so neither is set.
//
// The thread count is not left to an environment variable either: the trainer sets LibTorch's
// (at::set_num_threads, which MKL follows) to the cores it may use, split between the
// data-parallel workers of one machine, where torch's own default would count every core for
// each of them.

#include <string>
#include <vector>

namespace robotrain::util {

// Names the variables the preinit hook added ("GOMP_SPINCOUNT,"); "0" opts out.
inline constexpr const char* kNativeDefaultsVariable = "ROBOTRAIN_NATIVE_DEFAULTS";

// One line for logs and benchmark output, e.g.
// "oneMKL 2024.0 Update 2 (2 threads), GOMP_SPINCOUNT=10000".
std::string native_runtime_summary();

// The processor's model name from /proc/cpuinfo ("AMD EPYC", "Intel(R) Xeon(R) ..."), or
// "unknown": benchmark results differ by machine and say which one they came from.
std::string cpu_model();

// The variables this process got from the defaults (empty when the user set them all, or
// opted out with ROBOTRAIN_NATIVE_DEFAULTS=0).
std::vector<std::string> native_runtime_defaults_added();

}  // namespace robotrain::util
