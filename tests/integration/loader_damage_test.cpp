// A damaged AV1 video must end the loader with one clean line, whatever the number of loader
// workers. The damage here is the one that used to corrupt the heap ("malloc(): invalid
// size", exit 134, with 2 workers): sequence headers in the middle of the file rewritten to a
// frame width that is not a multiple of 8, so the decoder hands out frames 4 pixels narrower
// than the stream (and info.json) declare. swscale's SIMD converter then wrote past the end
// of an RGB buffer sized exactly for such a frame.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "support/test_support.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/strings.h"

namespace fs = std::filesystem;
using robotrain::test::run_robotrain;

namespace {

struct BitReader {
  const std::string& b;
  size_t bit;
  uint64_t f(int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; ++i, ++bit) v = (v << 1) | ((static_cast<uint8_t>(b[bit / 8]) >> (7 - bit % 8)) & 1);
    return v;
  }
};

void write_bits(std::string& b, size_t bit, int n, uint64_t v) {
  for (int i = n - 1; i >= 0; --i, ++bit) {
    const auto mask = static_cast<uint8_t>(1u << (7 - bit % 8));
    auto& byte = reinterpret_cast<uint8_t&>(b[bit / 8]);
    byte = (v >> i) & 1 ? (byte | mask) : (byte & ~mask);
  }
}

// Rewrites max_frame_width_minus_1 of the AV1 sequence headers (OBU type 1) found between
// `from` and `to` (byte offsets) to `width - 1`. Returns how many were rewritten. Follows the
// AV1 specification's sequence_header_obu() up to that field; headers with timing or decoder
// model information (which SVT-AV1 does not write) are left alone.
int rewrite_sequence_header_widths(std::string& b, size_t from, size_t to, int width) {
  int rewritten = 0;
  for (size_t i = from; i + 16 < to; ++i) {
    // obu_header: forbidden 0, type 1, no extension, has_size 1 -> 0x0A; a one-byte leb128 size.
    if (static_cast<uint8_t>(b[i]) != 0x0A || static_cast<uint8_t>(b[i + 1]) >= 0x80 || b[i + 1] < 8) continue;
    BitReader r{b, (i + 2) * 8};
    const auto profile = r.f(3), still = r.f(1), reduced = r.f(1);
    if (profile > 2 || still || reduced) continue;
    if (r.f(1)) continue;  // timing_info_present_flag
    const bool display_delay = r.f(1);
    const auto points = r.f(5) + 1;
    for (uint64_t p = 0; p < points; ++p) {
      r.f(12);                        // operating_point_idc
      if (r.f(5) > 7) r.f(1);         // seq_level_idx, seq_tier
      if (display_delay && r.f(1)) r.f(4);
    }
    const int width_bits = static_cast<int>(r.f(4)) + 1;
    r.f(4);  // frame_height_bits_minus_1
    const size_t at = r.bit;
    const auto old_width = r.f(width_bits) + 1;
    if (old_width != static_cast<uint64_t>(width) + 4) continue;  // not the header we know
    write_bits(b, at, width_bits, static_cast<uint64_t>(width - 1));
    ++rewritten;
  }
  return rewritten;
}

}  // namespace

TEST(LoaderDamage, NarrowerFramesFromADamagedAv1FileAreOneCleanLineWithTwoWorkers) {
  robotrain::util::TempDir tmp("rt-loader-damage");
  const auto ds = tmp.path() / "ds";
  auto r = run_robotrain({"dataset", "synth", "--output", ds.string(), "--episodes", "2", "--frames", "40", "--height",
                          "120", "--width", "160"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  fs::path video;
  for (auto& e : fs::recursive_directory_iterator(ds / "videos"))
    if (e.path().extension() == ".mp4") video = e.path();
  ASSERT_FALSE(video.empty());
  std::string bytes = robotrain::util::read_file(video);
  const size_t mdat = bytes.find("mdat");
  ASSERT_NE(mdat, std::string::npos);
  // The middle third of the frames: the first batches load fine, then the workers meet it.
  const size_t span = bytes.size() - mdat;
  const int rewritten = rewrite_sequence_header_widths(bytes, mdat + span / 3, mdat + 2 * span / 3, 156);
  ASSERT_GT(rewritten, 3) << "no AV1 sequence header of a 160-pixel-wide stream found to damage";
  robotrain::util::atomic_write_file(video, bytes);

  for (int run = 0; run < 10; ++run) {
    r = run_robotrain({"dataset", "bench-loader", ds.string(), "--num-workers", "2", "--batch-size", "8", "--steps", "40",
                       "--chunk-size", "0"},
                      {}, 300);
    EXPECT_EQ(r.exit_code, 1) << "run " << run << ": " << r.err;
    auto lines = robotrain::util::split(r.err, '\n');
    while (!lines.empty() && lines.back().empty()) lines.pop_back();
    ASSERT_EQ(lines.size(), 1u) << "run " << run << ": not one line:\n" << r.err;
    EXPECT_NE(lines[0].find(video.string()), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("156x120"), std::string::npos) << "the error should give the frame's size: " << lines[0];
  }
  // One loader thread: the same line.
  r = run_robotrain({"dataset", "bench-loader", ds.string(), "--num-workers", "0", "--steps", "40", "--chunk-size", "0"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("156x120"), std::string::npos) << r.err;
}

// A video whose frames are not the size info.json declares for its camera (re-encoded, or
// from another dataset) is one line naming the file and both sizes, not a tensor of another
// shape than the policy was built for.
TEST(LoaderDamage, VideoOfAnotherSizeThanInfoJsonDeclaresIsOneCleanLine) {
  robotrain::util::TempDir tmp("rt-loader-shape");
  const auto ds = tmp.path() / "ds";
  auto r = run_robotrain({"dataset", "synth", "--output", ds.string(), "--episodes", "1", "--frames", "10", "--height",
                          "64", "--width", "96"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto info = robotrain::util::Json::parse(robotrain::util::read_file(ds / "meta" / "info.json"));
  int cameras = 0;
  for (auto& [key, f] : info["features"].items())
    if (f["dtype"] == "video") {
      f["shape"] = {80, 96, 3};
      ++cameras;
    }
  ASSERT_GT(cameras, 0);
  robotrain::util::atomic_write_file(ds / "meta" / "info.json", info.dump());
  for (const char* workers : {"0", "2"}) {
    r = run_robotrain({"dataset", "bench-loader", ds.string(), "--num-workers", workers, "--steps", "2", "--chunk-size", "0"});
    EXPECT_EQ(r.exit_code, 1) << workers << " workers: " << r.err;
    auto lines = robotrain::util::split(r.err, '\n');
    while (!lines.empty() && lines.back().empty()) lines.pop_back();
    ASSERT_EQ(lines.size(), 1u) << r.err;
    EXPECT_NE(lines[0].find(".mp4: the video is 96x64 pixels"), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("declares 96x80"), std::string::npos) << lines[0];
  }
}
