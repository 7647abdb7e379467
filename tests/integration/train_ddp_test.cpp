// Data-parallel training through the real binary: 2 Gloo workers on CPU against a single
// process, a worker killed mid-run, and val/loss on the held-out episodes.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <thread>

#include "integration/train_support.h"
#include "util/strings.h"

namespace robotrain::test::train {
namespace {

// Deterministic tiny ACT: no dropout and no VAE sampling, so two runs that see the same
// samples in the same steps compute the same gradients.
std::vector<std::string> ddp_args(const std::string& out, int steps, int batch, std::vector<std::string> extra = {}) {
  std::vector<std::string> a{"train", "--dataset.root", synth_dataset(), "--output_dir", out, "--steps",
                             std::to_string(steps), "--batch_size", std::to_string(batch), "--seed", "7",
                             "--tracking-uri", (fs::path(out).parent_path() / "mlruns").string(),
                             "--policy.dropout", "0", "--policy.use_vae", "false", "--log_freq", "1"};
  auto t = tiny_policy_args();
  a.insert(a.end(), t.begin(), t.end());
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

fs::path weights(const fs::path& out, int step) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%06d", step);
  return out / "checkpoints" / buf / "pretrained_model" / "model.safetensors";
}

TEST(TrainDdp, TwoGlooWorkersMatchOneProcessWithTheDoubledBatch) {
  util::TempDir tmp("rt-ddp");
  const int steps = 3;
  // Rank r takes elements r, r+2, ... of each epoch's permutation, so with batch 2 per rank
  // step s covers exactly the permutation's elements [4s, 4s+4): one process's batch of 4.
  auto ddp = run_robotrain(ddp_args((tmp.path() / "ddp").string(), steps, 2, {"--nproc-per-node", "2"}));
  ASSERT_EQ(ddp.exit_code, 0) << ddp.err;
  EXPECT_NE(ddp.err.find("2 workers (gloo)"), std::string::npos) << ddp.err;
  auto single = run_robotrain(ddp_args((tmp.path() / "single").string(), steps, 4));
  ASSERT_EQ(single.exit_code, 0) << single.err;
  // Only rank 0 logs: one line per step, with the mean loss over the ranks.
  auto ddp_losses = logged_losses(ddp.err), single_losses = logged_losses(single.err);
  ASSERT_EQ(ddp_losses.size(), static_cast<size_t>(steps)) << ddp.err;
  ASSERT_EQ(single_losses.size(), static_cast<size_t>(steps));
  for (int i = 0; i < steps; ++i) EXPECT_NEAR(ddp_losses[i], single_losses[i], 2e-3);

  const double diff = max_abs_diff(weights(tmp.path() / "ddp", steps), weights(tmp.path() / "single", steps));
  EXPECT_LT(diff, 1e-4);
  // The comparison can fail: one process on only half of those samples ends elsewhere.
  auto half = run_robotrain(ddp_args((tmp.path() / "half").string(), steps, 2));
  ASSERT_EQ(half.exit_code, 0) << half.err;
  EXPECT_GT(max_abs_diff(weights(tmp.path() / "half", steps), weights(tmp.path() / "single", steps)), 10 * diff + 1e-5);

  // Effective batch recorded as in the seed system; lr not rescaled.
  auto params = tmp.path() / "mlruns";
  std::string eff, lr_ddp;
  for (auto& e : fs::recursive_directory_iterator(params)) {
    if (e.path().filename() == "effective_batch_size" && e.path().string().find("params") != std::string::npos &&
        util::read_file(e.path()) == "4")
      eff = "4";
  }
  EXPECT_EQ(eff, "4");
}

TEST(TrainDdp, ResumesWithAnotherWorldSize) {
  util::TempDir tmp("rt-ddp-resume");
  auto out = (tmp.path() / "run").string();
  auto first = run_robotrain(ddp_args(out, 2, 2, {"--nproc-per-node", "2"}));
  ASSERT_EQ(first.exit_code, 0) << first.err;
  auto again = run_robotrain({"train", "--resume", "--output_dir", out, "--steps", "3", "--num-threads", "2",
                              "--tracking-uri", (tmp.path() / "mlruns").string(), "--system-metrics", "false"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(fs::exists(weights(out, 3)));
  // The checkpoint counts the samples of all ranks, so one process continues at sample 8.
  auto state = util::read_json_file(fs::path(out) / "checkpoints" / "000002" / "training_state" / "robotrain_state.json");
  EXPECT_EQ(state.value("world_size", 0), 2);
  EXPECT_EQ(state.value("samples_consumed", 0), 8);
  EXPECT_NE(again.err.find("resuming from"), std::string::npos) << again.err;
  EXPECT_EQ(logged_losses(again.err).size(), 1u) << again.err;
}

TEST(TrainDdp, KillingOneWorkerEndsTheJobWithAnError) {
  util::TempDir tmp("rt-ddp-kill");
  auto err_file = (tmp.path() / "stderr.txt").string();
  auto args = ddp_args((tmp.path() / "run").string(), 100000, 2, {"--nproc-per-node", "2", "--dist-timeout", "60"});
  args.insert(args.begin(), robotrain_bin());
  util::ChildProcess launcher(args, {}, (tmp.path() / "stdout.txt").string(), err_file);

  // Wait until both workers train (rank 0 logs steps), then kill rank 1 outright.
  std::regex started(R"(started worker rank (\d) \(pid (\d+)\))");
  std::map<int, int> pids;
  std::string err;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(300);
  while (std::chrono::steady_clock::now() < deadline) {
    err = util::read_file(err_file);
    pids.clear();
    for (std::sregex_iterator it(err.begin(), err.end(), started), end; it != end; ++it)
      pids[std::stoi((*it)[1])] = std::stoi((*it)[2]);
    if (err.find("step:2 ") != std::string::npos) break;
    ASSERT_TRUE(launcher.running()) << err;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(pids.size(), 2u) << err;
  ASSERT_NE(err.find("step:2 "), std::string::npos) << err;
  ASSERT_EQ(::kill(pids[1], SIGKILL), 0);

  // The job ends by itself (no hang) and says which worker died; the test only bounds it
  // generously so that a hang fails instead of blocking the suite.
  auto code = launcher.wait(600);
  ASSERT_TRUE(code.has_value()) << "the job did not end after a worker was killed";
  EXPECT_EQ(*code, 1);
  err = util::read_file(err_file);
  EXPECT_NE(err.find("worker rank 1"), std::string::npos) << err;
  EXPECT_NE(err.find("killed by signal 9"), std::string::npos) << err;
  EXPECT_NE(::kill(pids[0], 0), 0) << "rank 0 still runs";
}

// Polls `file` until it contains `text` (or `alive` turns false / the deadline passes).
template <class Alive>
bool wait_for_text(const std::string& file, const std::string& text, Alive alive, int seconds = 300) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(file) && util::read_file(file).find(text) != std::string::npos) return true;
    if (!alive()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

TEST(TrainDdp, SigtermToTheLauncherStopsEveryWorkerAtOneStepWithACheckpoint) {
  util::TempDir tmp("rt-ddp-term");
  auto out = tmp.path() / "run";
  auto err_file = (tmp.path() / "stderr.txt").string();
  auto args = ddp_args(out.string(), 100000, 2, {"--nproc-per-node", "2", "--save_freq", "100000"});
  args.insert(args.begin(), robotrain_bin());
  util::ChildProcess launcher(args, {}, (tmp.path() / "stdout.txt").string(), err_file);
  ASSERT_TRUE(wait_for_text(err_file, "step:2 ", [&] { return launcher.running(); })) << util::read_file(err_file);
  int code = launcher.terminate(SIGTERM, 300);
  std::string err = util::read_file(err_file);
  EXPECT_EQ(code, 128 + SIGTERM) << err;
  // The ranks agreed on the step; rank 0 alone reported it and wrote the checkpoint.
  size_t first = err.find("stopping after step");
  ASSERT_NE(first, std::string::npos) << err;
  EXPECT_EQ(err.find("stopping after step", first + 1), std::string::npos) << err;
  EXPECT_TRUE(fs::exists(out / "checkpoints" / "last" / "pretrained_model" / "model.safetensors")) << err;
}

TEST(TrainDdp, ExternallyLaunchedWorkerFailsWhenItsPeerDies) {
  // As under torchrun or Azure ML: the workers get RANK/WORLD_SIZE/MASTER_* and no launcher
  // of ours watches them.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const std::string port = std::to_string(ntohs(addr.sin_port));
  ::close(fd);

  util::TempDir tmp("rt-ddp-ext");
  auto args = ddp_args((tmp.path() / "run").string(), 100000, 2, {"--dist-timeout", "60"});
  args.insert(args.begin(), robotrain_bin());
  std::vector<std::unique_ptr<util::ChildProcess>> ranks;
  for (int r = 0; r < 2; ++r) {
    util::ProcessOptions po;
    po.env = {{"RANK", std::to_string(r)}, {"LOCAL_RANK", std::to_string(r)}, {"WORLD_SIZE", "2"},
              {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", port}};
    ranks.push_back(std::make_unique<util::ChildProcess>(
        args, po, (tmp.path() / util::cat("out", r)).string(), (tmp.path() / util::cat("err", r)).string()));
  }
  auto err0 = (tmp.path() / "err0").string();
  ASSERT_TRUE(wait_for_text(err0, "step:2 ", [&] { return ranks[0]->running(); })) << util::read_file(err0);
  ranks[1]->terminate(SIGKILL, 10);
  auto code = ranks[0]->wait(600);
  ASSERT_TRUE(code.has_value()) << "rank 0 hung after its peer died";
  EXPECT_EQ(*code, 1);
  EXPECT_NE(util::read_file(err0).find("with the other workers failed"), std::string::npos) << util::read_file(err0);
}

TEST(TrainValidation, ValLossOnHeldOutEpisodesIsTracked) {
  util::TempDir tmp("rt-val");
  auto out = tmp.path() / "run";
  auto r = run_robotrain(ddp_args(out.string(), 4, 4, {"--val-split", "0.5", "--eval_freq", "2"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("step:2 val_loss:"), std::string::npos) << r.err;

  // The split is recorded; the held-out episode is not among those trained on.
  auto cfg = util::read_json_file(out / "checkpoints" / "000004" / "pretrained_model" / "train_config.json");
  auto sidecar = util::read_json_file(out / "checkpoints" / "000004" / "pretrained_model" / "robotrain.json");
  auto val = sidecar["train"]["val_episodes"].get<std::vector<int64_t>>();
  auto trained = cfg["dataset"]["episodes"].get<std::vector<int64_t>>();
  ASSERT_EQ(val.size(), 1u);
  ASSERT_EQ(trained.size(), 1u);
  EXPECT_NE(val[0], trained[0]);
  EXPECT_NE(r.err.find("dataset.num_episodes=1 "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("dataset.num_frames=40 "), std::string::npos) << r.err;

  // MLflow file store: metrics/val/loss holds "timestamp value step" lines for steps 2 and 4.
  fs::path metric;
  for (auto& e : fs::recursive_directory_iterator(tmp.path() / "mlruns"))
    if (e.path().filename() == "loss" && e.path().parent_path().filename() == "val") metric = e.path();
  ASSERT_FALSE(metric.empty());
  auto lines = util::split(util::trim(util::read_file(metric)), '\n');
  ASSERT_EQ(lines.size(), 2u);
  std::vector<int64_t> steps;
  for (auto& l : lines) {
    auto parts = util::split(l, ' ');
    ASSERT_EQ(parts.size(), 3u) << l;
    double v = std::stod(parts[1]);
    EXPECT_TRUE(std::isfinite(v) && v > 0) << l;
    steps.push_back(std::stoll(parts[2]));
  }
  EXPECT_EQ(steps, (std::vector<int64_t>{2, 4}));
}

}  // namespace
}  // namespace robotrain::test::train
