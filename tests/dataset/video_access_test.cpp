// Decoder behaviour beyond the basics in video_test.cpp: larger frames, HEVC, files made by
// the ffmpeg CLI (concatenated episodes as LeRobot v3.0 writes them, streams that do not
// start at 0), nearest-frame semantics and one decoding pass per multi-timestamp request.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <string>

#include "dataset/video/video.h"
#include "util/error.h"
#include "util/fs.h"

using namespace robotrain::dataset::video;
namespace fs = std::filesystem;

namespace {

// Moving block over gradients: each frame differs, edges stress the codec a little.
std::vector<uint8_t> block_frame(int w, int h, int i) {
  std::vector<uint8_t> rgb(static_cast<size_t>(w) * h * 3);
  int bs = std::max(8, w / 8);
  int bx = (i * 5) % (w - bs), by = (i * 3) % (h - bs);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = &rgb[(static_cast<size_t>(y) * w + x) * 3];
      bool in = x >= bx && x < bx + bs && y >= by && y < by + bs;
      p[0] = in ? 220 : static_cast<uint8_t>(200 * x / w);
      p[1] = in ? 30 : static_cast<uint8_t>(200 * y / h);
      p[2] = static_cast<uint8_t>(60 + (i * 9) % 120);
    }
  return rgb;
}

double mean_abs_diff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += std::abs(int(a[i]) - int(b[i]));
  return s / static_cast<double>(a.size());
}

// Encodes frames first..first+n-1; returns an empty path when the encoder is missing.
fs::path encode(const fs::path& p, const std::string& codec, int w, int h, int first, int n, int fps = 30) {
  EncoderOptions o;
  o.codec = codec;
  o.width = w;
  o.height = h;
  o.fps = fps;
  try {
    Encoder e(p, o);
    for (int i = first; i < first + n; ++i) e.add_frame(block_frame(w, h, i).data());
    e.finish();
  } catch (const robotrain::util::RuntimeError& e) {
    if (std::string(e.what()).find("has no encoder") != std::string::npos) return {};
    throw;
  }
  return p;
}

bool have_ffmpeg_cli() { return std::system("ffmpeg -version >/dev/null 2>&1") == 0; }

int run(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

std::vector<std::vector<uint8_t>> decode_all(const fs::path& p) {
  std::vector<std::vector<uint8_t>> out;
  Decoder d(p);
  Frame f;
  while (d.next(f)) out.push_back(f.rgb);
  return out;
}

}  // namespace

TEST(VideoAccess, Av1At640x480MatchesEncodedPixelsAndProbe) {
  robotrain::util::TempDir tmp;
  auto p = encode(tmp.path() / "a.mp4", "libsvtav1", 640, 480, 0, 12);
  auto info = probe(p);
  EXPECT_EQ(info.codec, "av1");
  EXPECT_EQ(info.pix_fmt, "yuv420p");
  EXPECT_EQ(info.width, 640);
  EXPECT_EQ(info.height, 480);
  EXPECT_NEAR(info.fps, 30.0, 1e-9);
  EXPECT_EQ(info.frame_count, 12);
  EXPECT_NEAR(info.duration_s, 12 / 30.0, 1e-3);  // every packet lasts one frame period
  Decoder d(p);
  std::vector<double> ts;
  for (int i = 11; i >= 0; --i) ts.push_back(i / 30.0);  // reverse order: results in the order asked
  auto frames = d.frames_at(ts);
  for (int k = 0; k < 12; ++k) {
    int i = 11 - k;
    EXPECT_EQ(frames[k].width, 640);
    EXPECT_EQ(frames[k].height, 480);
    EXPECT_NEAR(frames[k].pts_s, i / 30.0, 1e-6);
    EXPECT_LT(mean_abs_diff(frames[k].rgb, block_frame(640, 480, i)), 6.0) << "frame " << i;
  }
}

TEST(VideoAccess, HevcDecodes) {
  robotrain::util::TempDir tmp;
  auto p = encode(tmp.path() / "h.mp4", "libx265", 128, 96, 0, 16);
  if (p.empty()) GTEST_SKIP() << "no libx265 encoder in this FFmpeg";
  EXPECT_EQ(probe(p).codec, "hevc");
  auto seq = decode_all(p);
  ASSERT_EQ(seq.size(), 16u);
  for (int i = 0; i < 16; ++i) EXPECT_LT(mean_abs_diff(seq[i], block_frame(128, 96, i)), 8.0) << "frame " << i;
  Decoder d(p);
  auto f = d.frames_at({13 / 30.0, 2 / 30.0});
  EXPECT_EQ(f[0].rgb, seq[13]);
  EXPECT_EQ(f[1].rgb, seq[2]);
}

TEST(VideoAccess, H264WithBFramesRandomAccessEqualsSequential) {
  robotrain::util::TempDir tmp;
  auto p = encode(tmp.path() / "x.mp4", "libx264", 128, 96, 0, 90);
  if (p.empty()) GTEST_SKIP() << "no libx264 encoder in this FFmpeg";
  auto seq = decode_all(p);
  ASSERT_EQ(seq.size(), 90u);
  Decoder d(p);
  std::mt19937 rng(11);
  for (int k = 0; k < 30; ++k) {
    int i = static_cast<int>(rng() % 90);
    EXPECT_EQ(d.frames_at({i / 30.0})[0].rgb, seq[i]) << "frame " << i;
  }
}

TEST(VideoAccess, ConcatenatedEpisodesAsLeRobotWritesThem) {
  // v3.0: episode files are concatenated with the concat demuxer (stream copy); callers add the
  // episode's from_timestamp to its own timestamps.
  if (!have_ffmpeg_cli()) GTEST_SKIP() << "ffmpeg CLI not installed";
  robotrain::util::TempDir tmp;
  auto e0 = encode(tmp.path() / "e0.mp4", "libsvtav1", 64, 64, 0, 20);
  auto e1 = encode(tmp.path() / "e1.mp4", "libsvtav1", 64, 64, 100, 14);
  // The concat demuxer offsets each file by its container duration, which mp4 rounds to
  // milliseconds (0.667 s here); state the exact duration so frame times stay on the grid.
  robotrain::util::atomic_write_file(tmp.path() / "list.txt", "file 'e0.mp4'\nduration 0.666667\nfile 'e1.mp4'\n");
  auto out = tmp.path() / "file-000.mp4";
  ASSERT_EQ(run("ffmpeg -y -f concat -safe 0 -i " + (tmp.path() / "list.txt").string() + " -c copy " + out.string()), 0);
  auto info = probe(out);
  EXPECT_EQ(info.frame_count, 34);
  double from1 = 20 / 30.0;  // episode 1's from_timestamp
  Decoder d(out);
  auto f = d.frames_at({from1 + 13 / 30.0, 5 / 30.0, from1 + 0.0});
  EXPECT_LT(mean_abs_diff(f[0].rgb, block_frame(64, 64, 113)), 6.0);
  EXPECT_LT(mean_abs_diff(f[1].rgb, block_frame(64, 64, 5)), 6.0);
  EXPECT_LT(mean_abs_diff(f[2].rgb, block_frame(64, 64, 100)), 6.0);
  EXPECT_THROW(d.frames_at({from1 + 14 / 30.0}), robotrain::util::RuntimeError);  // past the end
}

TEST(VideoAccess, StreamNotStartingAtZero) {
  if (!have_ffmpeg_cli()) GTEST_SKIP() << "ffmpeg CLI not installed";
  robotrain::util::TempDir tmp;
  // 25 fps: frame times are whole milliseconds, exact in Matroska's 1 ms time base.
  auto src = encode(tmp.path() / "s.mp4", "libsvtav1", 64, 64, 0, 20, 25);
  auto out = tmp.path() / "shifted.mkv";
  ASSERT_EQ(run("ffmpeg -y -i " + src.string() + " -c copy -output_ts_offset 2.0 " + out.string()), 0);
  Decoder seq(out);
  Frame first;
  ASSERT_TRUE(seq.next(first));
  EXPECT_NEAR(first.pts_s, 2.0, 1e-6);
  Decoder d(out);
  auto f = d.frames_at({2.0 + 17 / 25.0, 2.0 + 3 / 25.0, 2.0});
  EXPECT_LT(mean_abs_diff(f[0].rgb, block_frame(64, 64, 17)), 6.0);
  EXPECT_LT(mean_abs_diff(f[1].rgb, block_frame(64, 64, 3)), 6.0);
  EXPECT_LT(mean_abs_diff(f[2].rgb, block_frame(64, 64, 0)), 6.0);
  EXPECT_THROW(d.frames_at({0.0}), robotrain::util::RuntimeError);  // before the first frame
}

TEST(VideoAccess, LargeToleranceTakesNearestFrame) {
  robotrain::util::TempDir tmp;
  auto p = encode(tmp.path() / "n.mp4", "libsvtav1", 64, 64, 0, 30);
  Decoder d(p);
  // 10.4 frame periods: frame 10 is nearest, though frames 9..11 are all within tolerance.
  auto f = d.frames_at({10.4 / 30.0}, 2.0 / 30.0);
  EXPECT_NEAR(f[0].pts_s, 10 / 30.0, 1e-6);
  f = d.frames_at({20.6 / 30.0}, 2.0 / 30.0);
  EXPECT_NEAR(f[0].pts_s, 21 / 30.0, 1e-6);
}

TEST(VideoAccess, ErrorNamesNearestFrameAndTheToleranceFix) {
  robotrain::util::TempDir tmp;
  auto p = encode(tmp.path() / "t.mp4", "libsvtav1", 64, 64, 0, 10);
  Decoder d(p);
  try {
    d.frames_at({3.2 / 30.0});
    FAIL() << "expected an error";
  } catch (const robotrain::util::RuntimeError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find(p.string()), std::string::npos) << m;
    EXPECT_NE(m.find("0.1066"), std::string::npos) << m;  // the query
    EXPECT_NE(m.find("0.1"), std::string::npos) << m;     // nearest pts (frame 3)
    EXPECT_NE(m.find("tolerance"), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }
}

TEST(VideoAccess, ManyTimestampsShareOnePass) {
  robotrain::util::TempDir tmp;
  auto p = encode(tmp.path() / "m.mp4", "libsvtav1", 64, 64, 0, 60);
  auto seq = decode_all(p);
  Decoder d(p);
  d.frames_at({40 / 30.0});  // position the decoder past the window below
  int64_t seeks = d.seeks(), decoded = d.frames_decoded();
  // ACT-style chunk of consecutive frames, asked shuffled and with a repeat (edge padding).
  std::vector<int> idx = {14, 10, 12, 11, 13, 10, 15};
  std::vector<double> ts;
  for (int i : idx) ts.push_back(i / 30.0);
  auto f = d.frames_at(ts);
  for (size_t k = 0; k < idx.size(); ++k) EXPECT_EQ(f[k].rgb, seq[idx[k]]) << "frame " << idx[k];
  EXPECT_EQ(d.seeks() - seeks, 1);
  EXPECT_LE(d.frames_decoded() - decoded, 6);  // frames 10..15, from keyframe 10
}

TEST(VideoAccess, NotAVideoAndUnknownEncoderFailWithPath) {
  robotrain::util::TempDir tmp;
  auto bad = tmp.path() / "junk.mp4";
  robotrain::util::atomic_write_file(bad, std::string(4096, 'x'));
  try {
    Decoder d(bad);
    FAIL();
  } catch (const robotrain::util::RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find(bad.string()), std::string::npos) << e.what();
  }
  try {
    probe(tmp.path() / "missing.mp4");
    FAIL();
  } catch (const robotrain::util::RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.mp4"), std::string::npos) << e.what();
  }
  EncoderOptions o;
  o.codec = "no-such-encoder";
  o.width = o.height = 64;
  EXPECT_THROW(Encoder(tmp.path() / "x.mp4", o), robotrain::util::RuntimeError);
  EXPECT_TRUE(fs::is_empty(tmp.path()) || !fs::exists(tmp.path() / "x.mp4"));
}

TEST(VideoAccess, PoolReusesDecoderPositionedJustBeforeHint) {
  robotrain::util::TempDir tmp;
  auto p = encode(tmp.path() / "pool.mp4", "libsvtav1", 64, 64, 0, 60);
  DecoderPool pool(DecoderOptions{1}, 4);
  const Decoder* at10 = nullptr;
  const Decoder* at40 = nullptr;
  {
    auto a = pool.acquire(p, 10 / 30.0);
    auto b = pool.acquire(p, 40 / 30.0);  // a is leased: a second decoder is opened
    a->frames_at({10 / 30.0});
    b->frames_at({40 / 30.0});
    at10 = &*a;
    at40 = &*b;
    EXPECT_NE(at10, at40);
  }
  {
    auto c = pool.acquire(p, 41 / 30.0);
    EXPECT_EQ(&*c, at40);  // decodes forward from 40 instead of seeking
    int64_t seeks = c->seeks();
    c->frames_at({41 / 30.0});
    EXPECT_EQ(c->seeks(), seeks);
    auto d = pool.acquire(p, 12 / 30.0);
    EXPECT_EQ(&*d, at10);
  }
}

TEST(VideoAccess, CodecThreadsGiveIdenticalFrames) {
  robotrain::util::TempDir tmp;
  auto p = encode(tmp.path() / "thr.mp4", "libsvtav1", 128, 96, 0, 24);
  Decoder one(p, DecoderOptions{1}), four(p, DecoderOptions{4});
  std::vector<double> ts = {23 / 30.0, 0.0, 7 / 30.0, 8 / 30.0};
  auto a = one.frames_at(ts);
  auto b = four.frames_at(ts);
  for (size_t k = 0; k < ts.size(); ++k) EXPECT_EQ(a[k].rgb, b[k].rgb) << "query " << k;
}

// Timestamps come from the dataset's Parquet files: a corrupt one is an error naming the video,
// never a cast out of int64_t's range (UBSan) or a hang.
TEST(VideoAccess, TimestampsFarOutsideTheVideoAreErrors) {
  robotrain::util::TempDir tmp;
  auto p = encode(tmp.path() / "m.mp4", "mpeg4", 64, 48, 0, 6);
  if (p.empty()) GTEST_SKIP() << "no mpeg4 encoder in this FFmpeg";
  Decoder d(p);
  for (double t : {1e300, -1e300, 1e18}) {
    try {
      d.frames_at({t});
      ADD_FAILURE() << t << " s gave a frame";
    } catch (const robotrain::util::RuntimeError& e) {
      EXPECT_NE(std::string(e.what()).find("no frame at"), std::string::npos) << e.what();
    }
  }
  for (double t : {std::nan(""), double{INFINITY}}) {
    try {
      d.frames_at({0.0, t});
      ADD_FAILURE() << t << " s gave a frame";
    } catch (const robotrain::util::RuntimeError& e) {
      EXPECT_NE(std::string(e.what()).find("is not a finite number"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(d.frames_at({2 / 30.0}).size(), 1u) << "the decoder still serves good timestamps";
}
