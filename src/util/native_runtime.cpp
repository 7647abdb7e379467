#include "util/native_runtime.h"

#include <dlfcn.h>

#include <cstdlib>
#include <fstream>

namespace robotrain::util {
namespace {

template <typename Fn>
Fn library_symbol(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, name));
}

// "Intel(R) oneAPI Math Kernel Library Version 2024.2-Product Build ..." -> "oneMKL 2024.2".
std::string mkl_version() {
  auto version = library_symbol<void (*)(char*, int)>("MKL_Get_Version_String");
  if (!version) return "";
  char buf[256] = {0};
  version(buf, sizeof buf - 1);
  std::string v = buf;
  auto at = v.find("Version ");
  if (at == std::string::npos) return "oneMKL";
  auto end = v.find_first_of("- ", at + 8);
  return "oneMKL " + v.substr(at + 8, end == std::string::npos ? std::string::npos : end - at - 8);
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
    if (name == "GOMP_SPINCOUNT") names.push_back(name);
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
  auto corename = library_symbol<char* (*)()>("openblas_get_corename");
  auto config = library_symbol<char* (*)()>("openblas_get_config");
  auto mkl_threads = library_symbol<int (*)()>("MKL_Get_Max_Threads");
  if (const std::string mkl = mkl_version(); !mkl.empty()) {
    s = mkl + (mkl_threads ? " (" + std::to_string(mkl_threads()) + " threads)" : "");
  } else if (corename && config) {  // a LibTorch built against OpenBLAS
    std::string cfg = config();  // "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY ..."
    auto version_end = cfg.find(' ', cfg.find(' ') + 1);
    s = cfg.substr(0, version_end) + " (" + corename() + " kernels)";
  } else {
    s = "BLAS: unknown";
  }
  for (const char* name : {"GOMP_SPINCOUNT", "OMP_WAIT_POLICY", "MKL_ENABLE_INSTRUCTIONS", "OPENBLAS_CORETYPE"})
    if (const char* v = std::getenv(name)) s += std::string(", ") + name + "=" + v;
  return s;
}

}  // namespace robotrain::util
