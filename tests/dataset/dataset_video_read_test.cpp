// Video-backed samples: v3.0 (synth, concatenated files with from_timestamp) and v2.1 (one
// mp4 per episode) give LeRobot's frames and padding; decoded pixels match what was encoded.
#include <gtest/gtest.h>

#include <cmath>

#include "dataset/lerobot_dataset.h"
#include "dataset/parquet/parquet.h"
#include "dataset/synth.h"
#include "dataset/validate.h"
#include "dataset_fixtures.h"
#include "util/error.h"
#include "util/fs.h"

using namespace robotrain;
using namespace robotrain::dataset;
namespace fs = std::filesystem;

namespace {

// Mean absolute difference (in [0,1] units) between a CHW float frame and an HWC uint8 image.
double mean_abs_diff(const float* chw, const std::vector<uint8_t>& hwc, int h, int w) {
  double sum = 0;
  const int64_t plane = static_cast<int64_t>(h) * w;
  for (int64_t p = 0; p < plane; ++p)
    for (int c = 0; c < 3; ++c) sum += std::abs(chw[c * plane + p] - hwc[p * 3 + c] / 255.0);
  return sum / (plane * 3);
}

// Where the blob is brightest in channel `c` (the blob colour dominates there).
std::pair<int, int> argmax(const float* chw, int h, int w, int c) {
  int best = 0;
  for (int p = 1; p < h * w; ++p)
    if (chw[c * h * w + p] > chw[c * h * w + best]) best = p;
  return {best / w, best % w};
}

}  // namespace

TEST(VideoRead, SynthV3FramesMatchEncodedPixelsAndDeltas) {
  util::TempDir tmp;
  SynthOptions o;
  o.episodes = 3;
  o.frames = 12;
  o.cameras = 2;
  o.height = 64;
  o.width = 96;
  o.progress = false;
  auto meta = synth_dataset(tmp.path() / "ds", o);
  // Concatenated per camera: episode e starts at e * 12 / 30 s.
  EXPECT_NEAR(meta.episodes[2].videos.at("observation.images.cam1").from_timestamp, 24.0 / 30, 1e-9);
  EXPECT_EQ(meta.episodes[0].videos.at("observation.images.cam0").path, meta.episodes[2].videos.at("observation.images.cam0").path);
  // Camera stats: per channel, shape (3,1,1), in [0,1]; nested lists in the episodes parquet.
  const auto& cs = meta.stats.at("observation.images.cam0");
  EXPECT_EQ(cs.shapes.at("mean"), (std::vector<int64_t>{3, 1, 1}));
  EXPECT_EQ(cs.values.at("count"), std::vector<double>{36});
  for (double v : cs.values.at("max")) EXPECT_LE(v, 1.0);
  EXPECT_GT(cs.values.at("max")[0], cs.values.at("mean")[0]);
  auto eps = parquet::read_table(tmp.path() / "ds/meta/episodes/chunk-000/file-000.parquet",
                                 {"stats/observation.images.cam0/mean", "videos/observation.images.cam0/from_timestamp"});
  const auto& mean = eps.column("stats/observation.images.cam0/mean");
  ASSERT_EQ(mean.offsets, (std::vector<int64_t>{0, 3, 6, 9}));
  EXPECT_NEAR(eps.column("videos/observation.images.cam0/from_timestamp").doubles[1], 12.0 / 30, 1e-12);
  DatasetOptions opt;
  opt.delta_indices["observation.images.cam0"] = {-1, 0};
  opt.delta_indices["action"] = {0, 1, 2};
  LeRobotDataset ds(tmp.path() / "ds", opt);
  LeRobotDataset plain(tmp.path() / "ds");
  double worst = 0;
  for (int64_t g = 0; g < meta.total_frames; ++g) {
    Sample s = ds.get(g);
    const Array& cam = s.arrays.at("observation.images.cam0");
    ASSERT_EQ(cam.shape, (std::vector<int64_t>{2, 3, 64, 96}));
    const float* st = s.arrays.at("observation.state").data<float>();
    std::vector<uint8_t> want(64 * 96 * 3);
    synth_render(st[0], st[1], 0, 64, 96, want.data());
    const double d = mean_abs_diff(cam.data<float>() + 3 * 64 * 96, want, 64, 96);
    worst = std::max(worst, d);
    EXPECT_LT(d, 0.03) << "frame " << g;
    const int64_t f = g % 12;
    EXPECT_EQ(s.arrays.at("observation.images.cam0_is_pad").data<uint8_t>()[0], f == 0);
    // Offset -1 is the previous frame of the episode (the same frame when clamped).
    Sample prev = plain.get(f == 0 ? g : g - 1);
    const Array& pc = prev.arrays.at("observation.images.cam0");
    ASSERT_EQ(pc.shape, (std::vector<int64_t>{3, 64, 96}));
    EXPECT_EQ(0, std::memcmp(pc.bytes.data(), cam.bytes.data(), pc.bytes.size())) << "frame " << g;
    // Camera 1 mirrors x: the blob's red/green peak columns are mirrored.
    const Array& c1 = s.arrays.at("observation.images.cam1");
    EXPECT_EQ(c1.shape, (std::vector<int64_t>{3, 64, 96}));
  }
  RecordProperty("worst_mean_abs_diff", std::to_string(worst));
}

TEST(VideoRead, Uint8OutputMatchesFloat) {
  util::TempDir tmp;
  SynthOptions o;
  o.episodes = 1;
  o.frames = 6;
  o.height = 64;
  o.width = 96;
  o.progress = false;
  synth_dataset(tmp.path() / "ds", o);
  LeRobotDataset f32(tmp.path() / "ds");
  DatasetOptions u;
  u.images_as_uint8 = true;
  LeRobotDataset u8(tmp.path() / "ds", u);
  auto a = f32.get(4).arrays.at("observation.images.cam0");
  auto b = u8.get(4).arrays.at("observation.images.cam0");
  ASSERT_EQ(b.dtype, DType::UInt8);
  ASSERT_EQ(a.numel(), b.numel());
  for (int64_t i = 0; i < a.numel(); i += 97) EXPECT_FLOAT_EQ(a.data<float>()[i], b.data<uint8_t>()[i] / 255.0f);
}

TEST(VideoRead, V21PerEpisodeVideos) {
  util::TempDir tmp;
  test::FixtureOptions fo;
  fo.video_key = "observation.images.top";
  test::write_v21_fixture(tmp.path(), fo);
  DatasetOptions opt;
  opt.delta_indices["observation.images.top"] = {-3, 0, 2};
  LeRobotDataset ds(tmp.path(), opt);
  int64_t g = 0;
  for (int64_t ep = 0; ep < 3; ++ep)
    for (int64_t f = 0; f < fo.lengths[ep]; ++f, ++g) {
      Sample s = ds.get(g);
      const Array& cam = s.arrays.at("observation.images.top");
      ASSERT_EQ(cam.shape, (std::vector<int64_t>{3, 3, 64, 96}));
      const std::vector<int> deltas = {-3, 0, 2};
      for (int k = 0; k < 3; ++k) {
        const int64_t want = f + deltas[k];
        const int64_t clamped = std::clamp<int64_t>(want, 0, fo.lengths[ep] - 1);
        EXPECT_EQ(s.arrays.at("observation.images.top_is_pad").data<uint8_t>()[k], want < 0 || want >= fo.lengths[ep]);
        EXPECT_LT(mean_abs_diff(cam.data<float>() + k * 3 * 64 * 96, test::fx_frame(ep, clamped), 64, 96), 0.03)
            << "ep " << ep << " f " << f << " k " << k;
      }
      // The blob's red peak sits where the fixture drew it.
      double x, y;
      test::fx_blob(ep, f, x, y);
      auto [row, col] = argmax(cam.data<float>() + 3 * 64 * 96, 64, 96, 0);
      EXPECT_NEAR(col, (x + 1) / 2 * 95, 2.0);
      EXPECT_NEAR(row, (1 - (y + 1) / 2) * 63, 2.0);
    }
}

TEST(VideoRead, MissingVideoSkipsEpisodeUnlessStrict) {
  util::TempDir tmp;
  test::FixtureOptions fo;
  fo.video_key = "observation.images.top";
  test::write_v21_fixture(tmp.path(), fo);
  fs::remove(tmp.path() / "videos/chunk-000/observation.images.top/episode_000001.mp4");
  LeRobotDataset ds(tmp.path());
  EXPECT_EQ(ds.episodes_used(), (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(ds.episodes_skipped(), std::vector<int64_t>{1});
  EXPECT_EQ(ds.num_frames(), 8);
  EXPECT_NO_THROW(ds.get(14));
  DatasetOptions strict;
  strict.strict = true;
  try {
    LeRobotDataset s(tmp.path(), strict);
    FAIL() << "strict mode accepted a missing video";
  } catch (const util::RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("episode_000001.mp4"), std::string::npos) << e.what();
  }
}

TEST(VideoRead, TimestampOutsideToleranceNamesFileEpisodeAndTime) {
  util::TempDir tmp;
  test::FixtureOptions fo;
  fo.video_key = "observation.images.top";
  // Episode 1's timestamps are shifted by half a frame: no frame within 1e-4 s.
  fo.tweak_timestamps = [](int64_t ep, std::vector<float>& ts) {
    if (ep == 1)
      for (auto& t : ts) t += 0.05f;
  };
  test::write_v21_fixture(tmp.path(), fo);
  LeRobotDataset ds(tmp.path());
  EXPECT_NO_THROW(ds.get(2));
  try {
    ds.get(7);  // episode 1, frame 2: t = 0.25 s
    FAIL() << "no tolerance error";
  } catch (const util::RuntimeError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("episode_000001.mp4"), std::string::npos) << msg;
    EXPECT_NE(msg.find("episode 1"), std::string::npos) << msg;
    EXPECT_NE(msg.find("0.25"), std::string::npos) << msg;
  }
}

TEST(VideoValidate, V21WithVideosIsValidAndMissingVideoIsAViolation) {
  util::TempDir tmp;
  test::FixtureOptions fo;
  fo.video_key = "observation.images.top";
  test::write_v21_fixture(tmp.path(), fo);
  auto ok = validate_dataset(load_metadata(tmp.path()));
  EXPECT_TRUE(ok.ok()) << ok.violations.front().where << ": " << ok.violations.front().what;
  EXPECT_EQ(ok.videos_checked, 3);
  fs::remove(tmp.path() / "videos/chunk-000/observation.images.top/episode_000002.mp4");
  auto bad = validate_dataset(load_metadata(tmp.path()));
  ASSERT_EQ(bad.violations.size(), 1u);
  EXPECT_EQ(bad.violations[0].where, "episode 2 observation.images.top");
}

TEST(VideoValidate, VideoShorterThanEpisodesIsAViolation) {
  util::TempDir tmp;
  test::FixtureOptions fo;
  fo.video_key = "observation.images.top";
  test::write_v21_fixture(tmp.path(), fo);
  // Replace episode 1's video (8 frames) by a 4-frame one.
  auto vp = tmp.path() / "videos/chunk-000/observation.images.top/episode_000001.mp4";
  fs::remove(vp);
  video::EncoderOptions eo;
  eo.width = 96;
  eo.height = 64;
  eo.fps = 10;
  video::Encoder enc(vp, eo);
  for (int f = 0; f < 4; ++f) enc.add_frame(test::fx_frame(1, f).data());
  enc.finish();
  auto r = validate_dataset(load_metadata(tmp.path()));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.violations[0].what.find("lasts"), std::string::npos) << r.violations[0].what;
}
