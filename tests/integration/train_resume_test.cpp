// `robotrain train` end to end on a tiny ACT: resume equals an uninterrupted run, SIGTERM
// and SIGKILL leave a complete last checkpoint, checkpoint layout, loss falls, CLI errors.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <thread>

#include "train_support.h"
#include "util/process.h"
#include "util/strings.h"

namespace tt = robotrain::test::train;
namespace util = robotrain::util;
namespace fs = std::filesystem;
using robotrain::test::run_robotrain;
using util::Json;

namespace {

fs::path last_target(const fs::path& out) {
  fs::path link = out / "checkpoints" / "last";
  if (!fs::is_symlink(link)) return {};
  fs::path t = fs::read_symlink(link);
  EXPECT_TRUE(t.is_relative()) << t;
  return link.parent_path() / t;
}

bool complete(const fs::path& ckpt) {
  for (const char* f : {"pretrained_model/config.json", "pretrained_model/model.safetensors",
                        "pretrained_model/train_config.json", "training_state/training_step.json",
                        "training_state/optimizer_state.safetensors", "training_state/optimizer_param_groups.json",
                        "training_state/rng_state.safetensors"})
    if (!fs::is_regular_file(ckpt / f)) return false;
  return true;
}

// Starts training in the background and waits until `last` exists.
std::unique_ptr<util::ChildProcess> start_and_wait_for_checkpoint(const std::vector<std::string>& args,
                                                                 const fs::path& out, const fs::path& log) {
  std::vector<std::string> argv{robotrain::test::robotrain_bin()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto child = std::make_unique<util::ChildProcess>(argv, util::ProcessOptions{}, log.string() + ".out", log.string());
  for (int i = 0; i < 1200 && !fs::is_symlink(out / "checkpoints" / "last"); ++i) {
    if (!child->running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return child;
}

}  // namespace

TEST(TrainResume, StoppedRunPlusResumeEqualsStraightRun) {
  util::TempDir tmp("rt-train");
  const fs::path straight = tmp.path() / "straight", split = tmp.path() / "split";
  auto r = run_robotrain(tt::train_args(straight.string(), 12, {"--save_freq", "6", "--log_freq", "3"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The same run, stopped by SIGTERM after its first checkpoint (wherever that lands), then
  // resumed from train_config.json: same seed, same schedule, same loader position.
  auto child = start_and_wait_for_checkpoint(tt::train_args(split.string(), 12, {"--save_freq", "3", "--log_freq", "1"}),
                                             split, tmp.path() / "log");
  ::kill(child->pid(), SIGTERM);
  auto code = child->wait(120);
  ASSERT_TRUE(code.has_value());
  ASSERT_TRUE(*code == 128 + SIGTERM || *code == 0) << util::read_file(tmp.path() / "log");
  auto stopped = util::read_json_file(last_target(split) / "training_state" / "training_step.json")["step"].get<int64_t>();
  r = run_robotrain({"train", "--resume", "--output_dir", split.string(), "--num-threads", "2", "--system-metrics", "false",
                     "--tracking-uri", (tmp.path() / "mlruns").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  if (stopped < 12) EXPECT_NE(r.err.find("resuming from"), std::string::npos) << r.err;
  auto cfg = util::read_json_file(split / "checkpoints" / "000012" / "pretrained_model" / "train_config.json");
  EXPECT_EQ(cfg["steps"], 12);
  EXPECT_EQ(cfg["seed"], 7);
  EXPECT_EQ(cfg["policy"]["dim_model"], 32);
  double diff = tt::max_abs_diff(straight / "checkpoints" / "000012" / "pretrained_model" / "model.safetensors",
                                 split / "checkpoints" / "000012" / "pretrained_model" / "model.safetensors");
  EXPECT_LT(diff, 1e-5) << "stopped at step " << stopped;
  double opt_diff = tt::max_abs_diff(straight / "checkpoints" / "000012" / "training_state" / "optimizer_state.safetensors",
                                     split / "checkpoints" / "000012" / "training_state" / "optimizer_state.safetensors");
  EXPECT_LT(opt_diff, 1e-5);
}

TEST(TrainResume, ConfigPathResumesFromThatCheckpointAsLeRobotDoes) {
  util::TempDir tmp("rt-train");
  const fs::path run = tmp.path() / "run";
  auto r = run_robotrain(tt::train_args(run.string(), 8, {"--save_freq", "4"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string final_weights = util::read_file(run / "checkpoints" / "000008" / "pretrained_model" / "model.safetensors");
  // lerobot-train --config_path=.../checkpoints/000004/pretrained_model/train_config.json --resume=true:
  // from step 4, not from `last`; the run directory follows from the path.
  const fs::path config = run / "checkpoints" / "000004" / "pretrained_model" / "train_config.json";
  r = run_robotrain({"train", "--config_path", config.string(), "--resume=true", "--num-threads", "2",
                     "--system-metrics", "false", "--tracking-uri", (tmp.path() / "mlruns").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("resuming from " + (run / "checkpoints" / "000004").string()), std::string::npos) << r.err;
  util::atomic_write_file(tmp.path() / "straight.safetensors", final_weights);
  EXPECT_LT(tt::max_abs_diff(tmp.path() / "straight.safetensors",
                             run / "checkpoints" / "000008" / "pretrained_model" / "model.safetensors"),
            1e-5)
      << "steps 5..8 again from step 4 land where the first pass did";

  r = run_robotrain({"train", "--config_path", config.string(), "--resume", "--output_dir", (tmp.path() / "other").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("is not the run of --config_path"), std::string::npos) << r.err;
  r = run_robotrain({"train", "--config_path", (tmp.path() / "nowhere.json").string(), "--resume"});
  EXPECT_EQ(r.exit_code, 2) << r.err;

  // Without --resume: a new run from that configuration, flags on top.
  r = run_robotrain({"train", "--config_path", config.string(), "--output_dir", (tmp.path() / "again").string(), "--steps",
                     "2", "--num-threads", "2", "--system-metrics", "false", "--no-tracking"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path again = tmp.path() / "again" / "checkpoints" / "000002" / "pretrained_model";
  auto cfg = util::read_json_file(again / "train_config.json");
  EXPECT_EQ(cfg["policy"]["dim_model"], 32);
  EXPECT_EQ(cfg["steps"], 2);
  EXPECT_EQ(util::read_json_file(again / "robotrain.json")["train"]["val_episodes"],
            util::read_json_file(config.parent_path() / "robotrain.json")["train"]["val_episodes"])
      << "same seed, same held-out episodes";
}

// The held-out episodes are fixed when a run starts: --val-split on a resume is refused with
// a warning, and a new run from --config_path takes the recorded split like any other field.
TEST(TrainResume, TheHeldOutSplitStaysWithTheRun) {
  util::TempDir tmp("rt-train");
  const fs::path run = tmp.path() / "run";
  auto r = run_robotrain(tt::train_args(run.string(), 2, {"--val-split", "0.5", "--no-tracking"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json first = util::read_json_file(run / "checkpoints" / "000002" / "pretrained_model" / "robotrain.json")["train"];
  ASSERT_EQ(first["val_split"], 0.5);
  ASSERT_EQ(first["val_episodes"].size(), 1u);

  r = run_robotrain({"train", "--resume", "--output_dir", run.string(), "--steps", "3", "--val-split", "0",
                     "--num-threads", "2", "--system-metrics", "false", "--no-tracking"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("--val-split 0 ignored: the run holds out the episodes it started with (--val-split 0.5)"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(util::read_json_file(run / "checkpoints" / "000003" / "pretrained_model" / "robotrain.json")["train"], first);

  const fs::path config = run / "checkpoints" / "000002" / "pretrained_model" / "train_config.json";
  r = run_robotrain({"train", "--config_path", config.string(), "--output_dir", (tmp.path() / "again").string(), "--steps",
                     "1", "--num-threads", "2", "--system-metrics", "false", "--no-tracking"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(util::read_json_file(tmp.path() / "again" / "checkpoints" / "000001" / "pretrained_model" / "robotrain.json")
                ["train"]["val_split"],
            0.5);
}

TEST(TrainResume, SigtermStopsWithACompleteCheckpointAndResumes) {
  util::TempDir tmp("rt-train");
  const fs::path out = tmp.path() / "run";
  auto child = start_and_wait_for_checkpoint(tt::train_args(out.string(), 100000, {"--save_freq", "3", "--log_freq", "1"}),
                                             out, tmp.path() / "log");
  ASSERT_TRUE(fs::is_symlink(out / "checkpoints" / "last")) << util::read_file(tmp.path() / "log");
  ::kill(child->pid(), SIGTERM);
  auto code = child->wait(120);
  ASSERT_TRUE(code.has_value()) << "training did not stop within 120 s of SIGTERM";
  EXPECT_EQ(*code, 128 + SIGTERM) << util::read_file(tmp.path() / "log");
  std::string log = util::read_file(tmp.path() / "log");
  EXPECT_NE(log.find("--resume --output_dir"), std::string::npos) << log;
  // The final checkpoint is the step the run stopped at, complete, and `last` points to it.
  fs::path last = last_target(out);
  ASSERT_TRUE(complete(last)) << last;
  auto step = util::read_json_file(last / "training_state" / "training_step.json")["step"].get<int64_t>();
  EXPECT_EQ(last.filename(), fs::path(robotrain::util::cat(std::string(6 - std::to_string(step).size(), '0'), step)));
  for (auto& e : fs::directory_iterator(out / "checkpoints")) {
    std::string name = e.path().filename().string();
    EXPECT_NE(name[0], '.') << "staging directory left behind: " << name;
    if (name != "last") EXPECT_TRUE(complete(e.path())) << name;
  }
  // The run is marked as failed in the tracking store.
  bool tagged = false;
  for (auto& e : fs::recursive_directory_iterator(tmp.path() / "mlruns"))
    if (e.path().filename() == "training_status" && e.path().parent_path().filename() == "tags")
      tagged = util::read_file(e.path()) == "failed";
  EXPECT_TRUE(tagged);
  // And it resumes from there.
  auto r = run_robotrain({"train", "--resume", "--output_dir", out.string(), "--steps", std::to_string(step + 2),
                          "--num-threads", "2", "--system-metrics", "false"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(complete(last_target(out)));
  EXPECT_EQ(util::read_json_file(last_target(out) / "training_state" / "training_step.json")["step"], step + 2);
}

TEST(TrainResume, SigkillNeverLeavesLastOnAHalfCheckpoint) {
  util::TempDir tmp("rt-train");
  const fs::path out = tmp.path() / "run";
  // A checkpoint every step: the kill very likely lands inside a checkpoint write.
  auto child = start_and_wait_for_checkpoint(tt::train_args(out.string(), 100000, {"--save_freq", "1", "--log_freq", "1"}),
                                             out, tmp.path() / "log");
  ASSERT_TRUE(fs::is_symlink(out / "checkpoints" / "last")) << util::read_file(tmp.path() / "log");
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  ::kill(child->pid(), SIGKILL);
  child->wait(30);
  fs::path last = last_target(out);
  EXPECT_TRUE(complete(last)) << last;
  auto r = run_robotrain({"train", "--resume", "--output_dir", out.string(), "--steps",
                          std::to_string(util::read_json_file(last / "training_state" / "training_step.json")["step"].get<int64_t>() + 1),
                          "--num-threads", "2", "--system-metrics", "false"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (auto& e : fs::directory_iterator(out / "checkpoints"))
    EXPECT_NE(e.path().filename().string()[0], '.') << "stale staging directory kept: " << e.path();
}
