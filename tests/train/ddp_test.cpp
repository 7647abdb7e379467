// Distributed pieces without the binary: the launcher environment, the held-out split, and
// the bucketed gradient all-reduce between two ranks (threads of this process, real Gloo
// over loopback).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <thread>

#include "train/dist_env.h"
#include "train/distributed.h"
#include "dataset/val_split.h"
#include "util/error.h"

namespace robotrain::train {
namespace {

auto env_of(std::map<std::string, std::string> vars) {
  return [vars](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(DistEnv, NoLauncherVariablesMeansASingleProcess) {
  EXPECT_FALSE(dist_env_from_environment(env_of({})).has_value());
  EXPECT_FALSE(dist_env_from_environment(env_of({{"RANK", "0"}})).has_value());  // WORLD_SIZE missing
}

TEST(DistEnv, TorchrunVariables) {
  auto e = dist_env_from_environment(env_of({{"RANK", "3"}, {"WORLD_SIZE", "8"}, {"LOCAL_RANK", "1"},
                                             {"LOCAL_WORLD_SIZE", "2"}, {"MASTER_ADDR", "10.0.0.4"},
                                             {"MASTER_PORT", "6105"}}));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->rank, 3);
  EXPECT_EQ(e->world_size, 8);
  EXPECT_EQ(e->local_rank, 1);
  EXPECT_EQ(e->local_world_size, 2);
  EXPECT_EQ(e->master_addr, "10.0.0.4");
  EXPECT_EQ(e->master_port, 6105);
  EXPECT_TRUE(e->distributed());
}

TEST(DistEnv, OpenMpiVariablesWithAzureMlMasterNode) {
  auto e = dist_env_from_environment(env_of({{"OMPI_COMM_WORLD_RANK", "1"}, {"OMPI_COMM_WORLD_SIZE", "4"},
                                             {"OMPI_COMM_WORLD_LOCAL_RANK", "1"}, {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"},
                                             {"AZ_BATCH_MASTER_NODE", "10.1.2.3:6000"}}));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->rank, 1);
  EXPECT_EQ(e->world_size, 4);
  EXPECT_EQ(e->local_world_size, 2);
  EXPECT_EQ(e->master_addr, "10.1.2.3");
  EXPECT_EQ(e->master_port, 6000);
  // MASTER_ADDR/PORT, when set, win over the Azure ML node variable.
  e = dist_env_from_environment(env_of({{"OMPI_COMM_WORLD_RANK", "0"}, {"OMPI_COMM_WORLD_SIZE", "2"},
                                        {"AZ_BATCHAI_MPI_MASTER_NODE", "node-0"}}));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->master_addr, "node-0");
  EXPECT_EQ(e->master_port, 29500);
}

TEST(DistEnv, InconsistentVariablesAreInputErrors) {
  EXPECT_THROW(dist_env_from_environment(env_of({{"RANK", "2"}, {"WORLD_SIZE", "2"}})), util::InputError);
  EXPECT_THROW(dist_env_from_environment(env_of({{"RANK", "x"}, {"WORLD_SIZE", "2"}})), util::InputError);
  EXPECT_THROW(dist_env_from_environment(env_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "70000"}})),
               util::InputError);
}

TEST(ValSplit, HoldsOutAFixedDisjointFraction) {
  std::vector<int64_t> eps;
  for (int64_t i = 0; i < 20; ++i) eps.push_back(i);
  auto val = dataset::choose_val_episodes(eps, 0.1, 1000);
  ASSERT_EQ(val.size(), 2u);
  EXPECT_EQ(val, dataset::choose_val_episodes(eps, 0.1, 1000));  // same seed, same split
  EXPECT_TRUE(std::is_sorted(val.begin(), val.end()));
  auto train = dataset::without_episodes(eps, val);
  EXPECT_EQ(train.size(), 18u);
  for (auto v : val) EXPECT_EQ(std::count(train.begin(), train.end(), v), 0);
  // Different seeds spread the choice (not always the last episodes).
  std::set<int64_t> seen;
  for (uint64_t s = 0; s < 20; ++s)
    for (auto v : dataset::choose_val_episodes(eps, 0.1, s)) seen.insert(v);
  EXPECT_GT(seen.size(), 5u);
}

TEST(ValSplit, EdgeCases) {
  EXPECT_TRUE(dataset::choose_val_episodes({0, 1, 2}, 0, 1).empty());
  EXPECT_TRUE(dataset::choose_val_episodes({5}, 0.5, 1).empty());           // never every episode
  EXPECT_EQ(dataset::choose_val_episodes({0, 1, 2}, 0.01, 1).size(), 1u);   // at least one
  EXPECT_EQ(dataset::choose_val_episodes({0, 1, 2}, 0.99, 1).size(), 2u);   // never all
}

// Two ranks as threads: Linear(4,8) -> Linear(8,2), plus one layer only rank 0 uses and one
// nobody uses.
struct Net : torch::nn::Module {
  torch::nn::Linear a{nullptr}, b{nullptr}, rank0_only{nullptr}, unused{nullptr};
  Net() {
    a = register_module("a", torch::nn::Linear(4, 8));
    b = register_module("b", torch::nn::Linear(8, 2));
    rank0_only = register_module("rank0_only", torch::nn::Linear(2, 2));
    unused = register_module("unused", torch::nn::Linear(2, 2));
  }
  torch::Tensor loss(const torch::Tensor& x, bool use_extra) {
    auto y = b(torch::tanh(a(x)));
    if (use_extra) y = rank0_only(y);
    return y.pow(2).mean();
  }
};

TEST(GradReducer, AveragesGradientsOverRanksInBuckets) {
  torch::manual_seed(1);
  auto net0 = std::make_shared<Net>();
  torch::manual_seed(2);
  auto net1 = std::make_shared<Net>();  // different initial weights: the broadcast must fix them
  auto reference = std::make_shared<Net>();
  {
    torch::NoGradGuard g;
    for (size_t i = 0; i < net0->parameters().size(); ++i) reference->parameters()[i].copy_(net0->parameters()[i]);
  }
  torch::manual_seed(3);
  std::vector<torch::Tensor> inputs{torch::randn({5, 4}), torch::randn({5, 4})};

  // Expected: the mean over the ranks of each rank's own gradient.
  std::vector<torch::Tensor> expected;
  for (auto& p : reference->parameters()) expected.push_back(torch::zeros_like(p));
  for (int r = 0; r < 2; ++r) {
    reference->zero_grad();
    reference->loss(inputs[r], r == 0).backward();
    auto ps = reference->parameters();
    for (size_t i = 0; i < ps.size(); ++i)
      if (ps[i].grad().defined()) expected[i] += ps[i].grad() / 2;
  }

  const int port = free_local_port();
  std::vector<std::vector<torch::Tensor>> grads(2);
  std::vector<double> loss_sums(2);
  std::vector<size_t> buckets(2);
  std::vector<std::string> errors(2);
  auto worker = [&](int rank, std::shared_ptr<Net> net) {
    try {
      DistEnv env;
      env.rank = rank;
      env.world_size = 2;
      env.master_port = port;
      DistContext ctx(env, torch::kCPU, std::chrono::seconds(60));
      ctx.broadcast(net->parameters());
      GradReducer reducer(ctx, net->parameters(), /*bucket_bytes=*/16);  // several buckets
      buckets[rank] = reducer.num_buckets();
      for (int iteration = 0; iteration < 2; ++iteration) {  // buckets re-arm every step
        for (auto& p : net->parameters()) p.mutable_grad().reset();
        reducer.prepare();
        auto loss = net->loss(inputs[rank], rank == 0);
        loss.backward();
        loss_sums[rank] = reducer.finish({static_cast<double>(rank + 1)})[0];
      }
      for (auto& p : net->parameters()) grads[rank].push_back(p.grad().defined() ? p.grad().clone() : torch::Tensor());
    } catch (const std::exception& e) {
      errors[rank] = e.what();
    }
  };
  std::thread t0(worker, 0, net0), t1(worker, 1, net1);
  t0.join();
  t1.join();
  ASSERT_EQ(errors[0], "");
  ASSERT_EQ(errors[1], "");
  EXPECT_GT(buckets[0], 2u);
  EXPECT_EQ(loss_sums[0], 3.0);
  EXPECT_EQ(loss_sums[1], 3.0);
  auto names = reference->named_parameters();
  for (int r = 0; r < 2; ++r) {
    for (size_t i = 0; i < expected.size(); ++i) {
      const std::string name = names[i].key();
      if (name.rfind("unused", 0) == 0) {
        EXPECT_FALSE(grads[r][i].defined()) << name << ": no rank produced a gradient";
        continue;
      }
      ASSERT_TRUE(grads[r][i].defined()) << name;
      EXPECT_TRUE(torch::allclose(grads[r][i], expected[i], 1e-5, 1e-6)) << name << " rank " << r;
    }
  }
  // Broadcast: rank 1 now holds rank 0's weights.
  for (size_t i = 0; i < net0->parameters().size(); ++i)
    EXPECT_TRUE(torch::equal(net0->parameters()[i], net1->parameters()[i]));
}

}  // namespace
}  // namespace robotrain::train
