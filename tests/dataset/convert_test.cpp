// convert_v21_to_v30: a v2.1 dataset (per-episode files, jsonl metadata, PNG image column,
// per-episode AV1 videos) re-reads identically as v3.0, validates clean, keeps per-episode
// stats, and merges with v3.0 datasets.
#include <gtest/gtest.h>

#include "dataset/convert.h"
#include "dataset/episode_stats.h"
#include "dataset/merge.h"
#include "dataset/synth.h"
#include "dataset_fixtures.h"
#include "merge_support.h"
#include "util/error.h"
#include "util/fs.h"

using namespace robotrain;
using namespace robotrain::dataset;
namespace fs = std::filesystem;

namespace {

test::FixtureOptions fixture() {
  test::FixtureOptions o;
  o.video_key = "observation.images.top";
  o.image_key = "observation.images.wrist";
  return o;
}

}  // namespace

TEST(Convert, V21WithVideoAndImagesReReadsIdentically) {
  util::TempDir tmp;
  test::write_v21_fixture(tmp.path() / "v21", fixture());
  convert_v21_to_v30(tmp.path() / "v21", tmp.path() / "v30");
  test::expect_concatenation(tmp.path() / "v30", {tmp.path() / "v21"});

  auto meta = load_metadata(tmp.path() / "v30");
  EXPECT_EQ(meta.codebase_version, "v3.0");
  EXPECT_EQ(meta.tasks, (std::vector<std::string>{"pick", "place"}));
  EXPECT_EQ(meta.total_frames, 16);
  auto info = util::read_json_file(tmp.path() / "v30/meta/info.json");
  EXPECT_FALSE(info.contains("total_chunks"));
  EXPECT_FALSE(info.contains("total_videos"));
  EXPECT_EQ(info["data_path"], "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet");
  EXPECT_EQ(info["video_path"], "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4");
  EXPECT_EQ(info["data_files_size_in_mb"], 100);
  // As LeRobot's converter: fps on every non-video feature.
  EXPECT_EQ(info["features"]["observation.state"]["fps"], 10);
  EXPECT_EQ(info["features"]["observation.images.wrist"]["fps"], 10);
  EXPECT_FALSE(info["features"]["observation.images.top"].contains("fps"));
  // All episodes in one data file; one video file per v2.1 episode, each from t=0.
  for (const auto& e : meta.episodes) {
    EXPECT_EQ(e.data_path.filename(), "file-000.parquet");
    const auto& v = e.videos.at("observation.images.top");
    EXPECT_EQ(v.path.filename(), util::cat("file-00", e.index, ".mp4"));
    EXPECT_DOUBLE_EQ(v.from_timestamp, 0.0);
  }
  // Per-episode stats from episodes_stats.jsonl, now in meta/episodes; stats.json aggregated.
  auto es = load_episode_stats(meta);
  ASSERT_EQ(es.size(), 3u);
  EXPECT_EQ(es[1].at("observation.state").values.at("count"), std::vector<double>{8});
  EXPECT_EQ(es[1].at("observation.state").values.at("mean"), (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(meta.stats.at("observation.state").values.at("count"), std::vector<double>{16});
}

TEST(Convert, RefusesV30SourcesAndExistingOutputs) {
  util::TempDir tmp;
  SynthOptions so;
  so.episodes = 1;
  so.frames = 3;
  so.cameras = 0;
  so.progress = false;
  synth_dataset(tmp.path() / "v30", so);
  try {
    convert_v21_to_v30(tmp.path() / "v30", tmp.path() / "out");
    FAIL() << "expected InputError";
  } catch (const util::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("is already v3.0"), std::string::npos) << e.what();
  }
  test::write_v21_fixture(tmp.path() / "v21");
  EXPECT_THROW(convert_v21_to_v30(tmp.path() / "v21", tmp.path() / "v30"), util::InputError);
  convert_v21_to_v30(tmp.path() / "v21", tmp.path() / "v30", /*overwrite=*/true);
  EXPECT_EQ(load_metadata(tmp.path() / "v30").codebase_version, "v3.0");
}

TEST(Convert, V21AndConvertedV30SourcesMerge) {
  util::TempDir tmp;
  test::write_v21_fixture(tmp.path() / "v21", fixture());
  convert_v21_to_v30(tmp.path() / "v21", tmp.path() / "v30");
  MergeOptions o;
  o.progress = false;
  auto r = merge_datasets({tmp.path() / "v21", tmp.path() / "v30"}, tmp.path() / "both", o);
  EXPECT_EQ(r.episodes, 6);
  EXPECT_EQ(r.tasks, 2);
  test::expect_concatenation(tmp.path() / "both", {tmp.path() / "v21", tmp.path() / "v30"});
}
