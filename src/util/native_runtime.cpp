#include "util/native_runtime.h"

#include <dlfcn.h>

#include <cstdlib>
#include <fstream>

namespace robotrain::util {
namespace {

template <typename Fn>
Fn openblas_symbol(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, name));
}

}  // namespace

std::vector<std::string> native_runtime_defaults_added() {
  std::vector<std::string> names;
  const char* marker = std::getenv(kNativeDefaultsVariable);
  if (!marker || std::string(marker) == "0") return names;
  std::string list = marker;
  for (size_t start = 0, end; start < list.size(); start = end + 1) {
    end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    std::string name = list.substr(start, end - start);
    if (name == "OPENBLAS_CORETYPE" || name == "GOMP_SPINCOUNT") names.push_back(name);
  }
  return names;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) != 0) continue;
    auto colon = line.find(':');
    if (colon == std::string::npos) break;
    auto begin = line.find_first_not_of(" \t", colon + 1);
    if (begin != std::string::npos) return line.substr(begin);
  }
  return "unknown";
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
