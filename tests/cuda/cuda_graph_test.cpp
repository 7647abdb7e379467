// --cuda_graph and the side-stream feeder (ctest label `cuda`, run by scripts/gpu-check.sh): a
// replayed CUDA graph trains exactly as the eager step does, and batches copied on the side
// stream arrive whole and in order.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "dataset/lerobot_dataset.h"
#include "dataset/loader.h"
#include "dataset/synth.h"
#include "train/batch.h"
#include "train/cuda_graph.h"
#include "train/device_feeder.h"
#include "train/optim.h"
#include "util/error.h"
#include "util/fs.h"

namespace train = robotrain::train;
namespace policy = robotrain::policy;
namespace dataset = robotrain::dataset;

namespace {

void require_gpu() {
  ASSERT_TRUE(torch::cuda::is_available()) << "no CUDA device: these tests run only on a GPU machine (scripts/gpu-check.sh)";
}

// The smallest policy the trainer's step can run: a regression with a detached loss part.
class LinearPolicy : public policy::Policy {
 public:
  LinearPolicy() { lin_ = register_module("lin", torch::nn::Linear(16, 4)); }
  std::string type() const override { return "linear"; }
  std::map<std::string, std::vector<int>> delta_indices() const override { return {}; }
  policy::LossOutput forward_loss(const policy::TensorMap& batch) override {
    policy::LossOutput out;
    out.loss = torch::mse_loss(lin_->forward(batch.at("x")), batch.at("y"));
    out.parts["mse"] = out.loss.detach();
    return out;
  }
  torch::Tensor select_action(const policy::TensorMap& o) override { return lin_->forward(o.at("x")); }
  torch::Tensor predict_action_chunk(const policy::TensorMap& o) override { return lin_->forward(o.at("x")).unsqueeze(1); }
  void reset() override {}
  robotrain::util::Json config_json() const override { return {{"type", "linear"}}; }
  std::vector<policy::ParamGroup> param_groups() override { return {{"default", parameters()}}; }
  policy::OptimizerPreset optimizer_preset() const override { return {}; }
  std::vector<std::pair<std::string, torch::Tensor>> lerobot_state_dict() override {
    return {{"lin.weight", lin_->weight}, {"lin.bias", lin_->bias}};
  }

 private:
  torch::nn::Linear lin_{nullptr};
};

policy::TensorMap random_batch(int step) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(100 + step));
  return {{"x", torch::randn({32, 16}, gen).cuda()}, {"y", torch::randn({32, 4}, gen).cuda()}};
}

}  // namespace

TEST(CudaGraph, ReplayedStepsTrainAsTheEagerStep) {
  require_gpu();
  torch::manual_seed(3);
  LinearPolicy eager_policy, graph_policy;
  eager_policy.to(torch::kCUDA);
  graph_policy.to(torch::kCUDA);
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < eager_policy.parameters().size(); ++i)
      graph_policy.parameters()[i].copy_(eager_policy.parameters()[i]);
  }
  const train::OptimizerConfig cfg{"adamw", 1e-2, 1e-2, 0.5, 0.9, 0.999, 1e-8};
  train::Optimizer eager_opt(cfg, eager_policy.param_groups()), graph_opt(cfg, graph_policy.param_groups());
  train::CudaGraphOptions go;
  go.warmup_steps = 2;
  go.grad_clip_norm = 0.5;  // small enough that clipping acts
  train::CudaGraphStep graph(graph_policy, graph_opt, go);
  for (int step = 0; step < 10; ++step) {
    if (step == 6) {  // a schedule reaches the replays
      eager_opt.set_lr(0, 3e-3);
      graph_opt.set_lr(0, 3e-3);
    }
    auto batch = random_batch(step);
    auto out = eager_policy.forward_loss(batch);
    out.loss.backward();
    auto norm = train::clip_grad_norm_tensor(eager_opt.parameters(), 0.5);
    eager_opt.step();
    eager_opt.zero_grad();
    auto r = graph.step(batch);
    EXPECT_EQ(graph.captured(), step >= 2) << step;
    EXPECT_NEAR(r.loss.item<double>(), out.loss.item<double>(), 1e-5) << step;
    EXPECT_NEAR(r.grad_norm.item<double>(), norm.item<double>(), 1e-4) << step;
    EXPECT_NEAR(r.parts.at("mse").item<double>(), out.loss.item<double>(), 1e-5) << step;
  }
  for (size_t i = 0; i < eager_policy.parameters().size(); ++i)
    EXPECT_TRUE(torch::allclose(graph_policy.parameters()[i], eager_policy.parameters()[i], 1e-5, 1e-6)) << i;
  // The checkpoint's step count follows the replays.
  auto st = graph_opt.state_tensors();
  std::map<std::string, torch::Tensor> m(st.begin(), st.end());
  EXPECT_FLOAT_EQ(m.at("state/0/step").item<float>(), 10.0f);
}

TEST(CudaGraph, ABatchOfAnotherShapeIsAnError) {
  require_gpu();
  LinearPolicy p;
  p.to(torch::kCUDA);
  train::Optimizer opt(train::OptimizerConfig{}, p.param_groups());
  train::CudaGraphOptions go;
  go.warmup_steps = 1;
  train::CudaGraphStep graph(p, opt, go);
  graph.step(random_batch(0));
  graph.step(random_batch(1));
  ASSERT_TRUE(graph.captured());
  policy::TensorMap other = {{"x", torch::randn({8, 16}, torch::kCUDA)}, {"y", torch::randn({8, 4}, torch::kCUDA)}};
  EXPECT_THROW(graph.step(other), robotrain::util::RuntimeError);
}

TEST(DeviceFeeder, SideStreamBatchesEqualTheDirectCopiesInOrder) {
  require_gpu();
  robotrain::util::TempDir tmp("rt-feeder");
  dataset::SynthOptions so;
  so.episodes = 1;
  so.frames = 24;
  so.height = 64;
  so.width = 64;
  so.progress = false;
  dataset::synth_dataset(tmp.path() / "ds", so);
  dataset::LeRobotDataset ds(tmp.path() / "ds");
  dataset::SamplerOptions sampler;
  sampler.shuffle = false;
  dataset::LoaderOptions lo;
  lo.batch_size = 4;
  lo.num_workers = 0;
  dataset::DataLoader fed(ds, sampler, lo), direct(ds, sampler, lo);
  train::BatchAdapterOptions cuda_opts;
  cuda_opts.device = torch::Device(torch::kCUDA, 0);
  cuda_opts.camera_keys = ds.meta().camera_keys();
  train::BatchAdapterOptions cpu_opts = cuda_opts;
  cpu_opts.device = torch::kCPU;
  train::DeviceFeeder feeder(fed, cuda_opts);
  for (int step = 0; step < 4; ++step) {
    auto got = feeder.next(static_cast<uint64_t>(step));
    auto want = train::to_device_batch(direct.next(), cpu_opts);
    ASSERT_EQ(got.size(), want.size());
    for (const auto& [key, t] : want) {
      ASSERT_TRUE(got.at(key).is_cuda()) << key;
      EXPECT_TRUE(torch::equal(got.at(key).cpu(), t)) << "step " << step << ", " << key;
    }
    EXPECT_EQ(feeder.samples_consumed(), 4 * (step + 1));  // the batch staged ahead is not counted
  }
}
