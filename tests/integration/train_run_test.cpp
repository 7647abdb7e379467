// `robotrain train` end to end: checkpoint layout and key names, config round trip, tracked
// metrics, the loss falling on a small config, and flag errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "train_support.h"

namespace tt = robotrain::test::train;
namespace util = robotrain::util;
namespace fs = std::filesystem;
using robotrain::test::run_robotrain;
using util::Json;

TEST(TrainRun, CheckpointHasLeRobotLayoutAndKeys) {
  util::TempDir tmp("rt-train");
  const fs::path out = tmp.path() / "run";
  auto r = run_robotrain(tt::train_args(out.string(), 4, {"--save_freq", "2", "--log_freq", "2", "--job_name", "layout"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // LeRobot's log line shape.
  // The default --val-split 0.1 holds one of the two episodes out: 40 training frames.
  EXPECT_NE(r.err.find("validation: 1 held-out episodes"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("step:2 smpl:8 ep:0 epch:0.20 loss:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(" grdn:"), std::string::npos);
  EXPECT_NE(r.err.find(" updt_s:"), std::string::npos);
  EXPECT_NE(r.err.find(" data_s:"), std::string::npos);

  EXPECT_TRUE(fs::is_directory(out / "checkpoints" / "000002"));
  EXPECT_EQ(fs::read_symlink(out / "checkpoints" / "last"), fs::path("000004"));
  const fs::path pm = out / "checkpoints" / "000004" / "pretrained_model";
  const fs::path ts = out / "checkpoints" / "000004" / "training_state";
  for (const char* f : {"config.json", "model.safetensors", "train_config.json", "policy_preprocessor.json",
                        "policy_preprocessor_step_3_normalizer_processor.safetensors", "policy_postprocessor.json",
                        "policy_postprocessor_step_0_unnormalizer_processor.safetensors"})
    EXPECT_TRUE(fs::is_regular_file(pm / f)) << f;
  for (const char* f : {"training_step.json", "optimizer_state.safetensors", "optimizer_param_groups.json",
                        "rng_state.safetensors"})
    EXPECT_TRUE(fs::is_regular_file(ts / f)) << f;
  EXPECT_FALSE(fs::exists(ts / "scheduler_state.json"));  // ACT has no LR scheduler

  auto weights = tt::read_safetensors(pm / "model.safetensors");
  for (const char* k : {"model.backbone.conv1.weight", "model.backbone.layer4.1.bn2.running_var",
                        "model.encoder.layers.0.self_attn.in_proj_weight", "model.decoder.norm.weight",
                        "model.vae_encoder_pos_enc", "model.action_head.weight", "model.encoder_img_feat_input_proj.weight"})
    EXPECT_TRUE(weights.count(k)) << k;
  EXPECT_EQ(weights["model.decoder_pos_embed.weight"].shape, (std::vector<int64_t>{10, 32}));
  auto norm = tt::read_safetensors(pm / "policy_preprocessor_step_3_normalizer_processor.safetensors");
  EXPECT_EQ(norm["observation.images.cam0.mean"].shape, (std::vector<int64_t>{3, 1, 1}));
  EXPECT_TRUE(norm.count("action.mean") && norm.count("action.std") && norm.count("observation.state.mean"));
  auto pre = util::read_json_file(pm / "policy_preprocessor.json");
  EXPECT_EQ(pre["steps"][3]["registry_name"], "normalizer_processor");
  EXPECT_EQ(pre["steps"][3]["state_file"], "policy_preprocessor_step_3_normalizer_processor.safetensors");
  EXPECT_EQ(pre["steps"][3]["config"]["features"].size(), 3u);  // state, camera, action
  auto post = util::read_json_file(pm / "policy_postprocessor.json");
  EXPECT_EQ(post["steps"][0]["registry_name"], "unnormalizer_processor");
  EXPECT_EQ(post["steps"][0]["config"]["features"], Json({{"action", {{"type", "ACTION"}, {"shape", {2}}}}}))
      << "LeRobot's unnormalizer knows the output features only";

  auto config = util::read_json_file(pm / "config.json");
  auto train_config = util::read_json_file(pm / "train_config.json");
  EXPECT_EQ(config.begin().key(), "type");
  EXPECT_EQ(config["type"], "act");
  EXPECT_EQ(config["chunk_size"], 10);
  EXPECT_EQ(config["input_features"]["observation.images.cam0"]["shape"], Json({3, 32, 32}));
  EXPECT_EQ(train_config["policy"], config);
  EXPECT_EQ(train_config["steps"], 4);
  EXPECT_EQ(train_config["batch_size"], 4);
  EXPECT_EQ(train_config["job_name"], "layout");
  // Only LeRobot 0.5's TrainPipelineConfig fields: its parser rejects any other, and then
  // `lerobot-train --config_path ... --resume=true` could not continue the run.
  const std::set<std::string> lerobot_train_fields = {
      "dataset", "env", "policy", "output_dir", "job_name", "resume", "seed", "cudnn_deterministic", "num_workers",
      "batch_size", "steps", "eval_freq", "log_freq", "tolerance_s", "save_checkpoint", "save_freq",
      "use_policy_training_preset", "optimizer", "scheduler", "eval", "wandb", "peft", "use_rabc", "rabc_progress_path",
      "rabc_kappa", "rabc_epsilon", "rabc_head_mode", "rename_map"};
  for (auto& [k, v] : train_config.items()) EXPECT_TRUE(lerobot_train_fields.count(k)) << "not LeRobot's: " << k;
  const std::set<std::string> lerobot_dataset_fields = {"repo_id", "root", "episodes", "image_transforms", "revision",
                                                        "use_imagenet_stats", "video_backend", "streaming"};
  for (auto& [k, v] : train_config["dataset"].items()) EXPECT_TRUE(lerobot_dataset_fields.count(k)) << "dataset." << k;
  EXPECT_EQ(train_config["dataset"]["video_backend"], "pyav") << "a backend LeRobot's decode_video_frames accepts";
  // robotrain's own: the held-out episodes replay evaluation uses.
  auto sidecar = util::read_json_file(pm / "robotrain.json");
  EXPECT_DOUBLE_EQ(sidecar["train"]["val_split"].get<double>(), 0.1);
  EXPECT_EQ(sidecar["train"]["val_episodes"].size(), 1u);
  EXPECT_EQ(train_config["optimizer"]["type"], "adamw");
  EXPECT_TRUE(train_config["scheduler"].is_null());
  EXPECT_EQ(train_config["dataset"]["root"], tt::synth_dataset());
  EXPECT_EQ(util::read_json_file(ts / "training_step.json"), Json({{"step", 4}}));

  // Optimizer state: LeRobot's flattened names, one entry per parameter, two groups (the
  // backbone at optimizer_lr_backbone).
  auto groups = util::read_json_file(ts / "optimizer_param_groups.json");
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_DOUBLE_EQ(groups[0]["weight_decay"].get<double>(), 1e-4);
  EXPECT_EQ(groups[0]["betas"], Json({0.9, 0.999}));
  size_t n0 = groups[0]["params"].size(), n1 = groups[1]["params"].size();
  EXPECT_EQ(groups[1]["params"][0], n0);
  auto opt = tt::read_safetensors(ts / "optimizer_state.safetensors");
  EXPECT_EQ(opt.size(), 3 * (n0 + n1));
  EXPECT_TRUE(opt.count("state/0/exp_avg") && opt.count("state/0/exp_avg_sq") && opt.count("state/0/step"));
  EXPECT_EQ(opt["state/0/step"].shape, std::vector<int64_t>{});
  auto rng = tt::read_safetensors(ts / "rng_state.safetensors");
  EXPECT_TRUE(rng.count("torch_rng_state") && rng.count("py_rng_state") && rng.count("np_rng_state_values"));

  // Metrics and seed-system params/tags in the local MLflow store.
  fs::path run_dir;
  for (auto& e : fs::recursive_directory_iterator(tmp.path() / "mlruns"))
    if (e.path().filename() == "metrics") run_dir = e.path().parent_path();
  ASSERT_FALSE(run_dir.empty());
  for (const char* m : {"train/loss", "train/grad_norm", "train/learning_rate", "train/update_time_s", "train/data_time_s",
                        "train/samples", "train/episodes", "train/epoch", "train/l1_loss", "train/kld_loss"})
    EXPECT_TRUE(fs::exists(run_dir / "metrics" / m)) << m;
  EXPECT_EQ(util::read_file(run_dir / "params" / "batch_size"), "4");
  EXPECT_EQ(util::read_file(run_dir / "params" / "policy_type"), "act");
  EXPECT_EQ(util::read_file(run_dir / "params" / "effective_batch_size"), "4");
  EXPECT_EQ(util::read_file(run_dir / "tags" / "training_status"), "completed");
  EXPECT_EQ(util::read_file(run_dir / "tags" / "lerobot.policy_type"), "act");
}

TEST(TrainRun, LossFallsClearlyOnASmallConfig) {
  util::TempDir tmp("rt-train");
  // A tiny ACT (L1 on action chunks falls fast, unlike a diffusion noise loss).
  std::vector<std::string> args{"train", "--dataset.root", tt::synth_dataset(), "--output_dir", (tmp.path() / "run").string(),
                                "--steps", "120", "--batch_size", "8", "--seed", "1", "--save_freq", "1000", "--log_freq", "10",
                                "--tracking-uri", (tmp.path() / "mlruns").string(), "--policy.type", "act",
                                "--policy.device", "cpu", "--policy.dim_model", "32", "--policy.n_heads", "2",
                                "--policy.dim_feedforward", "64", "--policy.n_encoder_layers", "1",
                                "--policy.n_vae_encoder_layers", "1", "--policy.latent_dim", "8", "--policy.chunk_size", "10",
                                "--policy.n_action_steps", "10", "--policy.optimizer_lr", "1e-3",
                                "--policy.optimizer_lr_backbone", "1e-4", "--policy.kl_weight", "1", "--num_workers", "1",
                                "--num-threads", "2", "--system-metrics", "false"};
  auto r = run_robotrain(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto losses = tt::logged_losses(r.err);
  ASSERT_EQ(losses.size(), 12u) << r.err;
  EXPECT_LT(losses.back(), 0.5 * losses.front()) << r.err;
  EXPECT_NE(r.err.find("% lower"), std::string::npos) << r.err;
}

TEST(TrainRun, FineTuneFromPolicyPathStartsFromTheWeights) {
  util::TempDir tmp("rt-train");
  auto r = run_robotrain(tt::train_args((tmp.path() / "a").string(), 2, {"--save_freq", "2"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path pm = tmp.path() / "a" / "checkpoints" / "000002" / "pretrained_model";
  // Zero steps of a fine-tune cannot be asked for; one step with lr 0 keeps the weights.
  r = run_robotrain({"train", "--dataset.root", tt::synth_dataset(), "--policy.path", pm.string(), "--policy.optimizer_lr",
                     "0", "--policy.optimizer_lr_backbone", "0", "--policy.optimizer_weight_decay", "0", "--steps", "1",
                     "--output_dir", (tmp.path() / "b").string(), "--system-metrics", "false", "--num-threads", "2",
                     "--tracking-uri", (tmp.path() / "mlruns-off").string(), "--no-tracking"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("fine-tuning"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "mlruns-off")) << "--no-tracking writes no store";
  EXPECT_LT(tt::max_abs_diff(pm / "model.safetensors",
                             tmp.path() / "b" / "checkpoints" / "000001" / "pretrained_model" / "model.safetensors"),
            1e-7);
}

TEST(TrainRun, PretrainedBackboneWeightsComeFromALocalFile) {
  util::TempDir tmp("rt-train");
  auto r = run_robotrain(tt::train_args((tmp.path() / "a").string(), 2, {"--save_freq", "2"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // LeRobot's default names torchvision's ImageNet weights: no local copy, no download.
  EXPECT_NE(r.err.find("has no local copy"), std::string::npos) << r.err;
  // Another run (another seed) starts its backbone from the first run's weights (an ACT
  // model.safetensors: the model.backbone. prefix is stripped); lr 0 keeps them for the check.
  const fs::path a = tmp.path() / "a" / "checkpoints" / "000002" / "pretrained_model";
  auto b_args = [&](const std::string& weights, const fs::path& out) {
    std::vector<std::string> args{"train", "--dataset.root", tt::synth_dataset(), "--output_dir", out.string(), "--steps", "1",
                                  "--batch_size", "2", "--seed", "8", "--no-tracking", "--policy.pretrained_backbone_weights",
                                  weights, "--policy.optimizer_lr_backbone", "0"};
    auto t = tt::tiny_policy_args();
    args.insert(args.end(), t.begin(), t.end());
    return args;
  };
  r = run_robotrain(b_args((a / "model.safetensors").string(), tmp.path() / "b"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("backbone weights from " + (a / "model.safetensors").string()), std::string::npos) << r.err;
  const fs::path b = tmp.path() / "b" / "checkpoints" / "000001" / "pretrained_model";
  auto wa = tt::read_safetensors(a / "model.safetensors"), wb = tt::read_safetensors(b / "model.safetensors");
  size_t compared = 0;
  for (auto& [k, t] : wa)
    if (k.rfind("model.backbone.", 0) == 0) {
      EXPECT_TRUE(t.bytes == wb[k].bytes) << k;
      ++compared;
    }
  EXPECT_EQ(compared, 100u);
  EXPECT_FALSE(wa["model.action_head.weight"].bytes == wb["model.action_head.weight"].bytes) << "the rest is B's own init";
  EXPECT_EQ(util::read_json_file(b / "config.json")["pretrained_backbone_weights"], "ResNet18_Weights.IMAGENET1K_V1");

  r = run_robotrain(b_args("/weights/resnet18-f37072fd.pth", tmp.path() / "c"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("safetensors"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "c"));
}

TEST(TrainRun, FlagErrorsAreInvalidInput) {
  util::TempDir tmp("rt-train");
  fs::create_directories(tmp.path() / "exists");
  auto r = run_robotrain(tt::train_args((tmp.path() / "exists").string(), 2));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--resume"), std::string::npos) << r.err;

  r = run_robotrain({"train", "--dataset.root", tt::synth_dataset(), "--policy.type", "act", "--no-such-flag", "1"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--no-such-flag"), std::string::npos) << r.err;

  r = run_robotrain({"train", "--dataset.root", tt::synth_dataset(), "--policy.type", "act", "--policy.no_such_field", "1",
                     "--output_dir", (tmp.path() / "x").string(), "--system-metrics", "false"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("no_such_field"), std::string::npos) << r.err;

  r = run_robotrain({"train", "--dataset.root", tt::synth_dataset(), "--policy.type", "act", "--no-tracking",
                     "--register-checkpoint", "m", "--output_dir", (tmp.path() / "z").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--no-tracking"), std::string::npos) << r.err;

  r = run_robotrain({"train", "--resume", "--output_dir", (tmp.path() / "nothing").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;

  r = run_robotrain({"train", "--dataset.root", (tmp.path() / "missing").string(), "--policy.type", "act",
                     "--output_dir", (tmp.path() / "y").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "y"));

  r = run_robotrain({"train", "--dataset.root", tt::synth_dataset(), "--policy.type", "act", "--dataset.episodes", "[0,0]"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
}
