#include "util/native_runtime.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace robotrain::util {
namespace {

constexpr const char* kMarker = "ROBOTRAIN_NATIVE_DEFAULTS";

// The OpenBLAS kernel family this CPU can run, or nullptr to leave OpenBLAS's own detection.
const char* openblas_kernels_for_this_cpu() {
#if defined(__x86_64__)
  __builtin_cpu_init();  // the preinit hook runs before libgcc's constructor would
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512cd"))
    return "SkylakeX";
  // AMD parts without AVX-512 are detected correctly (as Zen) and tuned for; leave them.
  if (__builtin_cpu_is("intel") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
  return nullptr;
}

// getenv() cannot be used yet: libc sets up `environ` after the preinit hooks have run.
bool has_env(char** envp, const char* name) {
  const size_t n = std::strlen(name);
  for (char** e = envp; e && *e; ++e)
    if (std::strncmp(*e, name, n) == 0 && (*e)[n] == '=') return true;
  return false;
}

// Runs before any shared library's constructor, but setenv() here would be undone by libc's
// own initialisation; so when a default is missing, the process re-executes itself with it
// (before LibTorch's static initialisers: it costs the dynamic linking, ~20 ms).
void apply_native_runtime_defaults(int, char** argv, char** envp) {
  if (has_env(envp, kMarker)) return;  // set by us (no loop) or =0 by the user (opt out)
  static char openblas[64];
  static char marker[128];
  const char* additions[3] = {};
  int n = 0;
  std::snprintf(marker, sizeof marker, "%s=", kMarker);
  if (!has_env(envp, "OPENBLAS_CORETYPE"))
    if (const char* kernels = openblas_kernels_for_this_cpu()) {
      std::snprintf(openblas, sizeof openblas, "OPENBLAS_CORETYPE=%s", kernels);
      additions[n++] = openblas;
      std::strcat(marker, "OPENBLAS_CORETYPE,");
    }
  if (!has_env(envp, "GOMP_SPINCOUNT") && !has_env(envp, "OMP_WAIT_POLICY")) {
    additions[n++] = "GOMP_SPINCOUNT=10000";
    std::strcat(marker, "GOMP_SPINCOUNT,");
  }
  if (n == 0) return;
  additions[n++] = marker;  // names what was added, for native_runtime_defaults_added()
  size_t count = 0;
  while (envp && envp[count]) ++count;
  auto** env = static_cast<char**>(std::malloc((count + n + 1) * sizeof(char*)));
  if (!env) return;
  for (size_t i = 0; i < count; ++i) env[i] = envp[i];
  for (int i = 0; i < n; ++i) env[count + i] = const_cast<char*>(additions[i]);
  env[count + n] = nullptr;
  execve("/proc/self/exe", argv, env);
  std::free(env);  // exec failed (no /proc?): run on with the libraries' own defaults
}

__attribute__((section(".preinit_array"), used)) void (*const preinit_native_runtime)(int, char**, char**) =
    apply_native_runtime_defaults;

template <typename Fn>
Fn openblas_symbol(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, name));
}

}  // namespace

std::vector<std::string> native_runtime_defaults_added() {
  std::vector<std::string> names;
  const char* marker = std::getenv(kMarker);
  if (!marker || std::string(marker) == "0") return names;
  std::string list = marker;
  for (size_t start = 0, end; start < list.size(); start = end + 1) {
    end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    if (end > start) names.push_back(list.substr(start, end - start));
  }
  return names;
}

std::string native_runtime_summary() {
  std::string s;
  auto corename = openblas_symbol<char* (*)()>("openblas_get_corename");
  auto config = openblas_symbol<char* (*)()>("openblas_get_config");
  auto threads = openblas_symbol<int (*)()>("openblas_get_num_threads");
  if (corename && config && threads) {
    std::string cfg = config();  // "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY ..."
    auto version_end = cfg.find(' ', cfg.find(' ') + 1);
    s = cfg.substr(0, version_end) + " (" + corename() + " kernels, " + std::to_string(threads()) + " threads)";
  } else {
    s = "BLAS: not OpenBLAS";
  }
  if (const char* spin = std::getenv("GOMP_SPINCOUNT")) s += std::string(", GOMP_SPINCOUNT=") + spin;
  if (const char* policy = std::getenv("OMP_WAIT_POLICY")) s += std::string(", OMP_WAIT_POLICY=") + policy;
  return s;
}

}  // namespace robotrain::util
