#pragma once
// What this binary's LibTorch was built with and what it finds at run time (torch and CUDA
// versions, cuDNN, NCCL, GPUs), for `robotrain env`, bug reports and the device checks.
// Torch-free header: the CLI includes it without LibTorch's headers.
#include <string>
#include <vector>

namespace robotrain::train {

struct DeviceInfo {
  std::string torch_version;         // "2.10.0+cu128"
  bool cuda_compiled = false;        // this build links libtorch_cuda (one binary for CPU and GPU)
  std::string cuda_version;          // CUDA runtime LibTorch was built with ("12.8"), empty without
  std::string cudnn_version;         // "9.10.2", empty when cuDNN is not available
  std::string nccl_version;          // "2.27.5", empty without NCCL
  int gpu_count = 0;                 // CUDA devices visible now (0 on a CPU-only machine)
  std::vector<std::string> gpus;     // "NVIDIA H100 80GB HBM3 (sm_90, 79 GiB)"
  std::string blas;                  // "MKL", "OpenBLAS", ...
  int threads = 0;                   // LibTorch intra-op threads
};

DeviceInfo device_info();

}  // namespace robotrain::train
