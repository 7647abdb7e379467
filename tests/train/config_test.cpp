// TrainConfig JSON round trip, override parsing, log line format, checkpoint directories.
#include <gtest/gtest.h>

#include <filesystem>

#include "train/checkpoint_dir.h"
#include "train/metrics_tracker.h"
#include "train/train_config.h"
#include "util/error.h"
#include "util/fs.h"

namespace rt = robotrain::train;
using robotrain::util::Json;
namespace fs = std::filesystem;

TEST(TrainConfig, JsonRoundTripKeepsEveryField) {
  rt::TrainConfig c;
  c.dataset.root = "/data/ds";
  c.dataset.episodes = std::vector<int64_t>{0, 3};
  c.dataset.image_transforms.enable = true;
  c.dataset.use_imagenet_stats = false;
  c.policy = Json{{"type", "act"}, {"chunk_size", 20}, {"device", "cpu"}};
  c.output_dir = "outputs/x";
  c.job_name = "job";
  c.seed = 7;
  c.batch_size = 4;
  c.steps = 321;
  c.save_freq = 100;
  c.log_freq = 10;
  c.optimizer = rt::OptimizerConfig{"adam", 1e-4, 1e-6, 10.0, 0.95, 0.999, 1e-8};
  c.scheduler = rt::SchedulerConfig{"diffuser", "cosine", 500};
  Json j = rt::to_json(c);
  // LeRobot's top-level order starts dataset, env, policy, output_dir.
  auto it = j.begin();
  EXPECT_EQ(it.key(), "dataset");
  EXPECT_EQ((++it).key(), "env");
  EXPECT_EQ((++it).key(), "policy");
  EXPECT_EQ(j["optimizer"]["betas"], Json({0.95, 0.999}));
  EXPECT_EQ(j["scheduler"]["type"], "diffuser");
  rt::TrainConfig back = rt::train_config_from_json(Json::parse(j.dump()));
  EXPECT_EQ(rt::to_json(back), j);
  EXPECT_EQ(back.policy_type(), "act");
  EXPECT_EQ(back.policy_device(), "cpu");
  EXPECT_EQ(*back.dataset.episodes, (std::vector<int64_t>{0, 3}));
  ASSERT_TRUE(back.optimizer);
  EXPECT_DOUBLE_EQ(back.optimizer->beta1, 0.95);
}

TEST(TrainConfig, OverrideValuesParseAsJsonLiterals) {
  EXPECT_EQ(rt::parse_override_value("20"), Json(20));
  EXPECT_EQ(rt::parse_override_value("1e-5"), Json(1e-5));
  EXPECT_EQ(rt::parse_override_value("false"), Json(false));
  EXPECT_EQ(rt::parse_override_value("True"), Json(true));
  EXPECT_EQ(rt::parse_override_value("null"), Json(nullptr));
  EXPECT_EQ(rt::parse_override_value("[96, 96]"), Json({96, 96}));
  EXPECT_EQ(rt::parse_override_value("(0.95, 0.999)"), Json({0.95, 0.999}));
  EXPECT_EQ(rt::parse_override_value("resnet18"), Json("resnet18"));
  EXPECT_EQ(rt::parse_override_value("cuda:0"), Json("cuda:0"));
  Json target = Json::object();
  rt::set_dotted(target, "normalization_mapping.VISUAL", Json("IDENTITY"));
  EXPECT_EQ(target["normalization_mapping"]["VISUAL"], "IDENTITY");
}

TEST(TrainConfig, EpisodeListsAreValidated) {
  EXPECT_EQ(rt::parse_episode_list("[0, 2,5]"), (std::vector<int64_t>{0, 2, 5}));
  EXPECT_EQ(rt::parse_episode_list("1,3"), (std::vector<int64_t>{1, 3}));
  EXPECT_THROW(rt::parse_episode_list("[1,1]"), robotrain::util::InputError);
  EXPECT_THROW(rt::parse_episode_list("[-1]"), robotrain::util::InputError);
  EXPECT_THROW(rt::parse_episode_list("[a]"), robotrain::util::InputError);
  EXPECT_THROW(rt::parse_episode_list("[]"), robotrain::util::InputError);
}

TEST(TrainConfig, FileNumbersAreNeverTruncated) {
  // nlohmann's get<int>() reads these as 2; a damaged train_config.json is named instead.
  for (const Json& bad : {Json{{"batch_size", 4294967298ull}}, Json{{"batch_size", 2.5}}, Json{{"steps", "10"}},
                          Json{{"dataset", {{"episodes", {0, 1.5}}}}}, Json{{"optimizer", {{"betas", {"a", 0.9}}}}},
                          Json{{"optimizer", {{"betas", 0.9}}}}, Json{{"save_checkpoint", 1}}})
    EXPECT_THROW(rt::train_config_from_json(bad), robotrain::util::InputError) << bad.dump();
  auto c = rt::train_config_from_json(Json{{"batch_size", 16}, {"steps", 10000000000ll}, {"dataset", {{"episodes", {0, 2}}}}});
  EXPECT_EQ(c.batch_size, 16);
  EXPECT_EQ(c.steps, 10000000000ll);
  EXPECT_EQ(*c.dataset.episodes, (std::vector<int64_t>{0, 2}));
}

// LeRobot acts on these fields; robotrain refuses what it would silently ignore.
TEST(TrainConfig, StreamingIsRefusedNotIgnored) {
  try {
    rt::train_config_from_json(Json{{"dataset", {{"repo_id", "lerobot/pusht"}, {"streaming", true}}}});
    FAIL() << "dataset.streaming true was accepted";
  } catch (const robotrain::util::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("dataset.streaming true is not supported"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(rt::train_config_from_json(Json{{"dataset", {{"repo_id", "lerobot/pusht"}, {"streaming", false}}}}));
}

TEST(MetricsTracker, LineHasLeRobotShape) {
  EXPECT_EQ(rt::format_big_number(200), "200");
  EXPECT_EQ(rt::format_big_number(1600), "2K");
  EXPECT_EQ(rt::format_big_number(2.5e6), "2M");
  rt::MetricsTracker t(8, 1000, 10, /*initial_step=*/0);
  for (int i = 0; i < 200; ++i) {
    t.step();
    t.meter("loss").update(0.5);
    t.meter("grad_norm").update(12.3456);
    t.meter("lr").update(1e-5);
    t.meter("update_s").update(0.1234);
    t.meter("dataloading_s").update(0.004);
  }
  EXPECT_EQ(t.line(), "step:200 smpl:2K ep:16 epch:1.60 loss:0.500 grdn:12.346 lr:1.0e-05 updt_s:0.123 data_s:0.004");
  t.reset_averages();
  EXPECT_EQ(t.meter("loss").count(), 0);
  rt::MetricsTracker resumed(8, 1000, 10, /*initial_step=*/100);
  EXPECT_EQ(resumed.samples(), 800);
}

TEST(CheckpointDir, StepIdentifierIsZeroPadded) {
  EXPECT_EQ(rt::step_identifier(500, 20000), "000500");
  EXPECT_EQ(rt::step_identifier(5, 1234567), "0000005");
  EXPECT_EQ(rt::step_checkpoint_dir("out", 100, 100), fs::path("out/checkpoints/000100"));
}

namespace {
void write_fake_checkpoint(const fs::path& dir) {
  fs::create_directories(dir / "pretrained_model");
  fs::create_directories(dir / "training_state");
  for (const char* f : {"pretrained_model/config.json", "pretrained_model/model.safetensors",
                        "pretrained_model/train_config.json", "training_state/training_step.json",
                        "training_state/optimizer_state.safetensors", "training_state/optimizer_param_groups.json",
                        "training_state/rng_state.safetensors"})
    robotrain::util::atomic_write_file(dir / f, "x");
}
}  // namespace

TEST(CheckpointDir, WriteIsStagedAndLastIsRelative) {
  robotrain::util::TempDir tmp("rt-ckpt");
  fs::path out = tmp.path() / "run";
  EXPECT_FALSE(rt::last_checkpoint(out));
  rt::write_checkpoint(rt::step_checkpoint_dir(out, 10, 5), [](const fs::path& staging) {
    EXPECT_NE(staging.filename().string().find(".tmp-"), std::string::npos);
    write_fake_checkpoint(staging);
  });
  fs::path link = out / "checkpoints" / "last";
  ASSERT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(fs::read_symlink(link), fs::path("000005"));
  EXPECT_EQ(rt::last_checkpoint(out)->filename(), "000005");
  rt::write_checkpoint(rt::step_checkpoint_dir(out, 10, 10), write_fake_checkpoint);
  EXPECT_EQ(fs::read_symlink(link), fs::path("000010"));
  // A writer that fails leaves neither a step directory nor a moved link.
  EXPECT_THROW(rt::write_checkpoint(rt::step_checkpoint_dir(out, 10, 15),
                                    [](const fs::path&) { throw std::runtime_error("disk full"); }),
               std::runtime_error);
  EXPECT_FALSE(fs::exists(out / "checkpoints" / "000015"));
  EXPECT_EQ(fs::read_symlink(link), fs::path("000010"));
  int entries = 0;
  for (auto& e : fs::directory_iterator(out / "checkpoints")) entries += e.path().filename().string()[0] != '.';
  EXPECT_EQ(entries, 3);  // 000005, 000010, last
}

TEST(CheckpointDir, IncompleteOrDanglingLastIsAnError) {
  robotrain::util::TempDir tmp("rt-ckpt");
  fs::path out = tmp.path() / "run";
  fs::create_directories(out / "checkpoints" / "000001" / "pretrained_model");
  fs::create_symlink("000001", out / "checkpoints" / "last");
  EXPECT_THROW(rt::last_checkpoint(out), robotrain::util::RuntimeError);
  fs::remove(out / "checkpoints" / "last");
  fs::create_symlink("000009", out / "checkpoints" / "last");
  EXPECT_THROW(rt::last_checkpoint(out), robotrain::util::RuntimeError);
}

TEST(CheckpointDir, StaleStagingDirectoriesAreRemoved) {
  robotrain::util::TempDir tmp("rt-ckpt");
  fs::path root = tmp.path() / "checkpoints";
  fs::create_directories(root / ".000005.tmp-123-0" / "pretrained_model");
  fs::create_directories(root / "000004");
  rt::remove_stale_staging(root);
  EXPECT_FALSE(fs::exists(root / ".000005.tmp-123-0"));
  EXPECT_TRUE(fs::exists(root / "000004"));
}
