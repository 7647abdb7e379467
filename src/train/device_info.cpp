#include "train/device_info.h"

#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/torch.h>

#if defined(ROBOTRAIN_WITH_CUDA)
#include <ATen/cuda/CUDAContext.h>
#endif

#include "train/c10d_nccl.h"
#include "util/strings.h"

#ifndef ROBOTRAIN_TORCH_VERSION
#define ROBOTRAIN_TORCH_VERSION TORCH_VERSION
#endif

namespace robotrain::train {

namespace {

// cuDNN and CUDART report MAJOR*10000 + MINOR*100 + PATCH (cuDNN 9) and MAJOR*1000 + MINOR*10.
std::string cudnn_string(long v) { return util::cat(v / 10000, ".", (v / 100) % 100, ".", v % 100); }
std::string cudart_string(long v) { return util::cat(v / 1000, ".", (v / 10) % 100); }

std::string blas_name() {
  const std::string config = at::show_config();
  if (config.find("BLAS_INFO=mkl") != std::string::npos) return "MKL";
  if (config.find("BLAS_INFO=open") != std::string::npos) return "OpenBLAS";
  auto at = config.find("BLAS_INFO=");
  if (at == std::string::npos) return "unknown";
  auto end = config.find_first_of(", \n", at);
  return config.substr(at + 10, end - at - 10);
}

}  // namespace

DeviceInfo device_info() {
  DeviceInfo d;
  d.torch_version = ROBOTRAIN_TORCH_VERSION;
  d.blas = blas_name();
  d.threads = at::get_num_threads();
  const auto& hooks = at::detail::getCUDAHooks();
#if defined(ROBOTRAIN_WITH_CUDA)
  d.cuda_compiled = true;
  d.cuda_version = cudart_string(CUDART_VERSION);
  if (hooks.hasCuDNN()) d.cudnn_version = cudnn_string(hooks.versionCuDNN());
#if defined(ROBOTRAIN_WITH_NCCL)
  d.nccl_version = c10d::getNcclVersion();
#endif
  // device_count() asks the driver; without one (a CPU-only machine) it is 0, not an error.
  d.gpu_count = torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0;
  for (int i = 0; i < d.gpu_count; ++i) {
    const cudaDeviceProp* prop = at::cuda::getDeviceProperties(i);
    d.gpus.push_back(util::cat(prop->name, " (sm_", prop->major, prop->minor, ", ", prop->totalGlobalMem >> 30, " GiB)"));
  }
#else
  (void)hooks;
#endif
  return d;
}

}  // namespace robotrain::train
