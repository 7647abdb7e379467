// The stages of a training run (train/training_run.h), each on its own: setup, step,
// validate, checkpoint and log, on a small synthetic dataset with a tiny ACT on the CPU.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "dataset/synth.h"
#include "train/device_feeder.h"
#include "train/training_run.h"
#include "util/fs.h"
#include "util/json.h"

namespace robotrain::train {
namespace {

namespace fs = std::filesystem;

class TrainingStages : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_ = new util::TempDir("rt-stages-ds");
    dataset::SynthOptions so;
    so.episodes = 3;
    so.frames = 30;
    so.height = so.width = 32;
    so.codec = "h264";
    so.progress = false;
    dataset::synth_dataset(data_->path() / "synth", so);
  }
  static void TearDownTestSuite() {
    delete data_;
    data_ = nullptr;
  }

  // A new run of a tiny ACT in its own output directory, one episode of three held out.
  TrainOptions options() const {
    TrainOptions o;
    TrainConfig& c = o.config;
    c.dataset.root = (data_->path() / "synth").string();
    c.output_dir = (out_.path() / "run").string();
    c.policy = util::Json{{"type", "act"},          {"device", "cpu"},           {"dim_model", 32},
                          {"n_heads", 2},           {"dim_feedforward", 64},     {"n_encoder_layers", 1},
                          {"n_decoder_layers", 1},  {"n_vae_encoder_layers", 1}, {"latent_dim", 8},
                          {"chunk_size", 10},       {"n_action_steps", 10},      {"pretrained_backbone_weights", nullptr}};
    c.steps = 4;
    c.batch_size = 4;
    c.num_workers = 1;
    c.num_threads = 2;
    c.val_split = 0.34;
    o.no_tracking = true;
    o.system_metrics = false;
    return o;
  }

  static util::TempDir* data_;
  util::TempDir out_{"rt-stages-out"};
};

util::TempDir* TrainingStages::data_ = nullptr;

TEST_F(TrainingStages, SetupHoldsOutEpisodesAndTakesThePolicysPreset) {
  auto run = setup_run(options());
  const auto& held_out = run->cfg.val_episodes;
  ASSERT_EQ(held_out.size(), 1u);
  ASSERT_TRUE(run->val_data);
  const auto& trained = run->train_data->episodes_used();
  EXPECT_EQ(trained.size(), 2u);
  EXPECT_EQ(std::find(trained.begin(), trained.end(), held_out[0]), trained.end());
  // ACT's LeRobot preset: AdamW at 1e-5, no scheduler.
  ASSERT_TRUE(run->cfg.optimizer);
  EXPECT_EQ(run->cfg.optimizer->type, "adamw");
  EXPECT_DOUBLE_EQ(run->cfg.optimizer->lr, 1e-5);
  EXPECT_FALSE(run->scheduler);
  EXPECT_EQ(run->step, 0);
  EXPECT_TRUE(run->primary());
  EXPECT_EQ(run->device.str(), "cpu");
}

TEST_F(TrainingStages, StepUpdatesTheWeightsAndReportsTheUpdate) {
  auto run = setup_run(options());
  std::vector<torch::Tensor> before;
  for (const auto& p : run->policy->parameters()) before.push_back(p.detach().clone());
  const StepResult s = train_step(*run, run->feeder->next(0));
  EXPECT_TRUE(std::isfinite(s.loss));
  EXPECT_GT(s.loss, 0);
  EXPECT_GT(s.grad_norm, 0);
  EXPECT_TRUE(s.stepped);
  EXPECT_DOUBLE_EQ(s.lr, 1e-5);
  EXPECT_TRUE(s.parts.count("l1_loss"));
  EXPECT_TRUE(s.parts.count("kld_loss"));
  size_t changed = 0;
  const auto after = run->policy->parameters();
  for (size_t i = 0; i < before.size(); ++i) changed += !torch::equal(before[i], after[i].detach());
  EXPECT_GT(changed, after.size() / 2);
  EXPECT_EQ(run->step, 0);  // the loop counts steps, not the stage
}

TEST_F(TrainingStages, ValidationRunsOnEvalStepsAndLeavesTrainingAsItWas) {
  TrainOptions o = options();
  o.config.eval_freq = 2;
  auto run = setup_run(o);
  run->policy->train();
  run->step = 1;
  EXPECT_FALSE(validate_if_due(*run));
  run->step = 2;
  const torch::Tensor rng_before = at::detail::getDefaultCPUGenerator().get_state();
  const auto first = validate_if_due(*run);
  ASSERT_TRUE(first);
  EXPECT_TRUE(std::isfinite(*first));
  EXPECT_GT(*first, 0);
  EXPECT_TRUE(torch::equal(rng_before, at::detail::getDefaultCPUGenerator().get_state()));
  EXPECT_TRUE(run->policy->is_training());
  EXPECT_DOUBLE_EQ(*validate_if_due(*run), *first);  // the same batches every time
}

TEST_F(TrainingStages, CheckpointWritesLeRobotsLayoutThenCallsTheHook) {
  TrainOptions o = options();
  std::vector<int64_t> hooked;
  o.on_checkpoint = [&hooked](const fs::path& dir, int64_t step, const TrainOutcome& outcome) {
    EXPECT_EQ(outcome.last_checkpoint, dir);  // complete before the hook sees it
    hooked.push_back(step);
  };
  auto run = setup_run(o);
  train_step(*run, run->feeder->next(0));
  run->step = 1;
  save_checkpoint(*run, 1);
  const fs::path ckpt = fs::path(run->cfg.output_dir) / "checkpoints" / "000001";
  for (const char* f : {"pretrained_model/config.json", "pretrained_model/model.safetensors",
                        "pretrained_model/train_config.json", "training_state/training_step.json",
                        "training_state/optimizer_state.safetensors", "training_state/rng_state.safetensors"})
    EXPECT_TRUE(fs::is_regular_file(ckpt / f)) << f;
  EXPECT_EQ(fs::read_symlink(fs::path(run->cfg.output_dir) / "checkpoints" / "last"), fs::path("000001"));
  EXPECT_EQ(util::read_json_file(ckpt / "training_state" / "training_step.json")["step"], 1);
  EXPECT_EQ(hooked, std::vector<int64_t>{1});
}

TEST_F(TrainingStages, StepLogAveragesBetweenLogLines) {
  TrainOptions o = options();
  o.config.log_freq = 2;
  auto run = setup_run(o);
  StepLog log(*run);
  auto record = [&](double loss) {
    StepResult s;
    s.loss = loss;
    ++run->step;
    log.record(s, 0.0);
    log.log_if_due();
  };
  record(1.0);
  EXPECT_EQ(run->outcome.first_loss, 0);  // no log line yet
  record(3.0);
  EXPECT_DOUBLE_EQ(run->outcome.first_loss, 2.0);
  record(5.0);
  log.finish();  // the unlogged tail counts as the last loss
  EXPECT_DOUBLE_EQ(run->outcome.first_loss, 2.0);
  EXPECT_DOUBLE_EQ(run->outcome.last_loss, 5.0);
}

}  // namespace
}  // namespace robotrain::train
