#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <thread>

#include "dataset/video/video.h"
#include "util/error.h"
#include "util/fs.h"

using namespace robotrain::dataset::video;
namespace fs = std::filesystem;

namespace {

// Smooth, frame-distinct content (codecs keep smooth images close to the source).
std::vector<uint8_t> synthetic_frame(int w, int h, int i) {
  std::vector<uint8_t> rgb(static_cast<size_t>(w) * h * 3);
  double cx = w * (0.2 + 0.6 * ((i * 7) % 50) / 50.0), cy = h * 0.5;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = &rgb[(static_cast<size_t>(y) * w + x) * 3];
      double d = std::hypot(x - cx, y - cy) / (0.25 * w);
      double blob = std::exp(-d * d);
      p[0] = static_cast<uint8_t>(40 + 180 * blob);
      p[1] = static_cast<uint8_t>(255.0 * y / h);
      p[2] = static_cast<uint8_t>((i * 5) % 256);
    }
  return rgb;
}

fs::path encode(const fs::path& dir, const std::string& codec, int w, int h, int frames, int fps = 30) {
  fs::path p = dir / (codec + "_" + std::to_string(w) + ".mp4");
  EncoderOptions o;
  o.codec = codec;
  o.width = w;
  o.height = h;
  o.fps = fps;
  Encoder e(p, o);
  for (int i = 0; i < frames; ++i) e.add_frame(synthetic_frame(w, h, i).data());
  e.finish();
  return p;
}

double mean_abs_diff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += std::abs(int(a[i]) - int(b[i]));
  return s / a.size();
}

}  // namespace

class VideoCodecs : public ::testing::TestWithParam<std::string> {};

TEST_P(VideoCodecs, DecodedFramesMatchEncodedPixels) {
  robotrain::util::TempDir tmp;
  const int w = 96, h = 64, n = 20;  // SVT-AV1 needs at least 64x64
  auto p = encode(tmp.path(), GetParam(), w, h, n);
  auto info = probe(p);
  EXPECT_EQ(info.width, w);
  EXPECT_EQ(info.height, h);
  EXPECT_NEAR(info.fps, 30, 1e-6);
  EXPECT_EQ(info.frame_count, n);
  Decoder d(p);
  Frame f;
  int i = 0;
  while (d.next(f)) {
    EXPECT_NEAR(f.pts_s, i / 30.0, 1e-6);
    EXPECT_LT(mean_abs_diff(f.rgb, synthetic_frame(w, h, i)), 6.0) << "frame " << i;
    ++i;
  }
  EXPECT_EQ(i, n);
}

INSTANTIATE_TEST_SUITE_P(Codecs, VideoCodecs, ::testing::Values("libsvtav1", "libx264", "mpeg4"));

TEST(Video, RandomAccessEqualsSequentialDecode) {
  robotrain::util::TempDir tmp;
  auto p = encode(tmp.path(), "libsvtav1", 64, 64, 60);
  std::vector<std::vector<uint8_t>> seq;
  {
    Decoder d(p);
    Frame f;
    while (d.next(f)) seq.push_back(f.rgb);
  }
  ASSERT_EQ(seq.size(), 60u);
  Decoder d(p);
  std::mt19937 rng(3);
  std::vector<double> ts;
  std::vector<int> idx;
  for (int k = 0; k < 40; ++k) {
    int i = static_cast<int>(rng() % 60);
    idx.push_back(i);
    ts.push_back(i / 30.0);
  }
  auto frames = d.frames_at(ts);
  for (size_t k = 0; k < idx.size(); ++k) EXPECT_EQ(frames[k].rgb, seq[idx[k]]) << "frame " << idx[k];
  // One at a time in random order too (exercises seek vs decode-forward).
  for (int k = 0; k < 20; ++k) {
    int i = static_cast<int>(rng() % 60);
    EXPECT_EQ(d.frames_at({i / 30.0})[0].rgb, seq[i]);
  }
  EXPECT_GT(d.seeks(), 0);
}

TEST(Video, GopTwoRandomFrameCostsAtMostTwoDecodes) {
  robotrain::util::TempDir tmp;
  auto p = encode(tmp.path(), "libsvtav1", 64, 64, 60);
  Decoder d(p);
  std::mt19937 rng(5);
  for (int k = 0; k < 40; ++k) {
    int i = static_cast<int>(rng() % 60);
    int64_t before = d.frames_decoded();
    d.frames_at({i / 30.0});
    EXPECT_LE(d.frames_decoded() - before, 2) << "frame " << i << ": GOP 2 means at most two decodes per random frame";
  }
  // Sequential requests never seek.
  Decoder s(p);
  for (int i = 0; i < 60; ++i) s.frames_at({i / 30.0});
  EXPECT_LE(s.seeks(), 1);
  EXPECT_EQ(s.frames_decoded(), 60);
}

TEST(Video, TimestampOutsideToleranceNamesFileAndTime) {
  robotrain::util::TempDir tmp;
  auto p = encode(tmp.path(), "libsvtav1", 64, 64, 10);
  Decoder d(p);
  try {
    d.frames_at({0.5 / 30.0});
    FAIL() << "expected an error";
  } catch (const robotrain::util::RuntimeError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find(p.string()), std::string::npos) << m;
    EXPECT_NE(m.find("0.0166"), std::string::npos) << m;
  }
  EXPECT_THROW(d.frames_at({5.0}), robotrain::util::RuntimeError);
  EXPECT_NO_THROW(d.frames_at({0.5 / 30.0}, 0.02));
}

TEST(Video, ConcatenatedEpisodesWithOffsets) {
  // v3.0 stores episodes back to back in one file: episode 2 starts at its from_timestamp.
  robotrain::util::TempDir tmp;
  auto p = encode(tmp.path(), "libsvtav1", 64, 64, 45);
  double from_timestamp = 30 / 30.0;  // second episode: frames 30..44
  Decoder d(p);
  auto f = d.frames_at({from_timestamp + 0.0, from_timestamp + 14 / 30.0});
  EXPECT_LT(mean_abs_diff(f[0].rgb, synthetic_frame(64, 64, 30)), 6.0);
  EXPECT_LT(mean_abs_diff(f[1].rgb, synthetic_frame(64, 64, 44)), 6.0);
}

TEST(Video, PoolServesThreadsAndReusesDecoders) {
  robotrain::util::TempDir tmp;
  auto p = encode(tmp.path(), "libsvtav1", 64, 64, 30);
  DecoderPool pool;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int k = 0; k < 10; ++k) {
        auto lease = pool.acquire(p, (k + t) % 30 / 30.0);
        auto f = lease->frames_at({((k + t) % 30) / 30.0});
        ok += f[0].rgb.size() == 64u * 64u * 3u;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 40);
}

TEST(Video, MissingAndInvalidFilesFailClearly) {
  robotrain::util::TempDir tmp;
  EXPECT_THROW(Decoder(tmp.path() / "nope.mp4"), robotrain::util::RuntimeError);
  robotrain::util::atomic_write_file(tmp.path() / "bad.mp4", "not a video");
  EXPECT_THROW(probe(tmp.path() / "bad.mp4"), robotrain::util::RuntimeError);
}

TEST(Video, UnfinishedEncoderLeavesNothing) {
  robotrain::util::TempDir tmp;
  {
    EncoderOptions o;
    o.width = 64;
    o.height = 64;
    Encoder e(tmp.path() / "x.mp4", o);
    e.add_frame(synthetic_frame(64, 64, 0).data());
  }
  EXPECT_TRUE(fs::is_empty(tmp.path()));
}
