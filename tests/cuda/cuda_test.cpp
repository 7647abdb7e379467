// CUDA-marked tests (ctest label `cuda`): run by scripts/gpu-check.sh on a machine with a GPU,
// excluded from the default suite (scripts/test.sh runs `ctest -LE cuda`). Without a GPU they
// fail: they are never a silent pass.
#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "train/batch.h"
#include "train/device_info.h"
#include "train/distributed.h"
#include "train/loss_scaler.h"

namespace train = robotrain::train;

namespace {

void require_gpu() {
  ASSERT_TRUE(torch::cuda::is_available()) << "no CUDA device: these tests run only on a GPU machine (scripts/gpu-check.sh)";
}

}  // namespace

TEST(Cuda, DeviceInfoSeesTheGpuAndCudnn) {
  require_gpu();
  auto d = train::device_info();
  EXPECT_TRUE(d.cuda_compiled);
  EXPECT_GE(d.gpu_count, 1);
  ASSERT_FALSE(d.gpus.empty());
  EXPECT_FALSE(d.cudnn_version.empty());
  EXPECT_FALSE(d.nccl_version.empty());
}

TEST(Cuda, PinnedBatchArrivesOnTheDeviceUnchanged) {
  require_gpu();
  robotrain::dataset::Batch host;
  robotrain::dataset::Array img;
  img.dtype = robotrain::dataset::DType::UInt8;
  img.shape = {2, 3, 4, 5};
  img.bytes.resize(2 * 3 * 4 * 5);
  for (size_t i = 0; i < img.bytes.size(); ++i) img.bytes[i] = static_cast<uint8_t>(i);
  host.arrays.emplace("observation.images.top", img);
  train::BatchAdapterOptions opts;
  opts.device = torch::Device(torch::kCUDA, 0);
  opts.camera_keys = {"observation.images.top"};
  auto batch = train::to_device_batch(std::move(host), opts);
  auto t = batch.at("observation.images.top");
  EXPECT_TRUE(t.is_cuda());
  auto expected = torch::arange(120, torch::kFloat32).view({2, 3, 4, 5}).div(255.0);
  EXPECT_TRUE(torch::allclose(t.cpu(), expected));
}

TEST(Cuda, Fp16AutocastWithLossScalingTrainsALinearModel) {
  require_gpu();
  torch::manual_seed(0);
  torch::nn::Linear lin(16, 4);
  lin->to(torch::kCUDA);
  torch::optim::Adam opt(lin->parameters(), 1e-2);
  train::LossScaler scaler(true);
  auto x = torch::randn({64, 16}, torch::kCUDA), y = torch::randn({64, 4}, torch::kCUDA);
  double first = 0, last = 0;
  for (int i = 0; i < 50; ++i) {
    at::autocast::set_autocast_dtype(at::kCUDA, torch::kFloat16);
    at::autocast::set_autocast_enabled(at::kCUDA, true);
    auto out = lin->forward(x);
    at::autocast::set_autocast_enabled(at::kCUDA, false);
    at::autocast::clear_cache();
    EXPECT_EQ(out.scalar_type(), torch::kFloat16);
    auto loss = torch::mse_loss(out.to(torch::kFloat32), y);
    if (i == 0) first = loss.item<double>();
    last = loss.item<double>();
    scaler.scale_loss(loss).backward();
    bool ok = scaler.unscale_gradients(lin->parameters());
    if (ok) opt.step();
    opt.zero_grad();
    scaler.update(ok);
  }
  EXPECT_LT(last, first);
}

TEST(Cuda, RngStateOfTheDeviceGeneratorReplays) {
  require_gpu();
  auto gen = at::globalContext().defaultGenerator(c10::DeviceType::CUDA);
  torch::cuda::manual_seed_all(5);
  auto state = gen.get_state();
  auto a = torch::randn({8}, torch::kCUDA);
  gen.set_state(state);
  auto b = torch::randn({8}, torch::kCUDA);
  EXPECT_TRUE(torch::equal(a, b));
}
