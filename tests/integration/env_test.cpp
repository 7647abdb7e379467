// `robotrain env` names the LibTorch it was built with: torch 2.x with CUDA compiled in (one
// binary for CPU-only machines and GPUs), cuDNN and NCCL, and whether a GPU is present.
#include <gtest/gtest.h>

#include "support/test_support.h"
#include "util/json.h"

using robotrain::test::run_robotrain;
using robotrain::util::Json;

TEST(Env, ReportsTorchCudaCudnnNcclAndGpus) {
  auto r = run_robotrain({"env", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json j = Json::parse(r.out);
  EXPECT_EQ(j.at("torch").get<std::string>().rfind("2.10.", 0), 0u) << j.dump();
  EXPECT_TRUE(j.at("cuda_compiled").get<bool>()) << "this build must carry the CUDA backend";
  EXPECT_EQ(j.at("cuda").get<std::string>(), "12.8");
  EXPECT_EQ(j.at("cudnn").get<std::string>().rfind("9.", 0), 0u);
  EXPECT_EQ(j.at("nccl").get<std::string>().rfind("2.", 0), 0u);
  EXPECT_EQ(j.at("blas").get<std::string>(), "MKL");
  EXPECT_GE(j.at("gpu_count").get<int>(), 0);
  EXPECT_EQ(j.at("gpus").size(), static_cast<size_t>(j.at("gpu_count").get<int>()));

  auto plain = run_robotrain({"env"});
  ASSERT_EQ(plain.exit_code, 0);
  EXPECT_NE(plain.out.find("cuda_compiled: true"), std::string::npos) << plain.out;
}
