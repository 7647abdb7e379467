// The ELF preinit hook behind util/native_runtime.h. Not part of librobotrain (an application
// embedding the library should not find itself re-executed): CMake links this file into the
// executables this project builds (rt_link_area_closure).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "util/native_runtime.h"

namespace robotrain::util {
namespace {

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
  if (has_env(envp, kNativeDefaultsVariable)) return;  // set by us (no loop) or =0 by the user (opt out)
  static char marker[128];
  const char* additions[2] = {};
  int n = 0;
  std::snprintf(marker, sizeof marker, "%s=", kNativeDefaultsVariable);
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

}  // namespace
}  // namespace robotrain::util
