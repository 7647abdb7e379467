#pragma once
// c10d's NCCL declarations (ProcessGroupNCCL, getNcclVersion) in builds with NCCL; nothing
// otherwise. c10d's headers hide them unless USE_C10D_NCCL is defined: defined here too, for a
// LibTorch whose CMake package does not define it.
#if defined(ROBOTRAIN_WITH_NCCL)
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
