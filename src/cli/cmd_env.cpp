// `robotrain env`: what this binary was built with and what it sees at run time, so a bug
// report carries the facts (compiler, version, threads, BLAS kernels, torch, CUDA, cuDNN, NCCL,
// GPUs) without a second round trip.
#include <iostream>
#include <thread>

#include "cli/command.h"
#include "train/device_info.h"
#include "util/json.h"
#include "util/native_runtime.h"

#ifndef ROBOTRAIN_VERSION
#define ROBOTRAIN_VERSION "0.1.0"
#endif

namespace robotrain::cli {
namespace {

util::Json environment_report() {
  util::Json j;
  j["version"] = ROBOTRAIN_VERSION;
  j["compiler"] = __VERSION__;
  j["cplusplus"] = static_cast<long>(__cplusplus);
  j["hardware_threads"] = std::thread::hardware_concurrency();
  j["cpu"] = util::cpu_model();
  j["native_runtime"] = util::native_runtime_summary();
  j["native_defaults_added"] = util::native_runtime_defaults_added();
  const train::DeviceInfo d = train::device_info();
  j["torch"] = d.torch_version;
  j["blas"] = d.blas;
  j["torch_threads"] = d.threads;
  j["cuda_compiled"] = d.cuda_compiled;
  j["cuda"] = d.cuda_version.empty() ? util::Json(nullptr) : util::Json(d.cuda_version);
  j["cudnn"] = d.cudnn_version.empty() ? util::Json(nullptr) : util::Json(d.cudnn_version);
  j["nccl"] = d.nccl_version.empty() ? util::Json(nullptr) : util::Json(d.nccl_version);
  j["gpu_count"] = d.gpu_count;
  j["gpus"] = d.gpus;
  return j;
}

CommandRegistrar reg(900, [](CLI::App& root) {
  auto* cmd = root.add_subcommand("env", "Print build and runtime environment (for bug reports)");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "Print as JSON");
  cmd->callback([json] {
    auto j = environment_report();
    if (*json) {
      std::cout << j.dump(2) << "\n";
      return;
    }
    for (auto& [k, v] : j.items()) std::cout << k << ": " << (v.is_string() ? v.get<std::string>() : v.dump()) << "\n";
  });
});

}  // namespace
}  // namespace robotrain::cli
