#include "dataset/synth.h"

#include <cmath>

#include "dataset/dataset_writer.h"
#include "util/error.h"
#include "util/progress.h"
#include "util/strings.h"

namespace robotrain::dataset {

using util::cat;

namespace {

constexpr double kPi = 3.14159265358979323846;

// Deterministic uniform numbers independent of the standard library's distributions.
struct Rng {
  uint64_t s;
  double uniform() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) * (1.0 / 9007199254740992.0);
  }
};

const uint8_t kColors[][3] = {{230, 60, 40}, {40, 200, 80}, {60, 90, 235}, {230, 200, 40}, {200, 60, 220}, {40, 210, 210}};

}  // namespace

void synth_next_state(double x, double y, double& nx, double& ny) {
  double r = std::hypot(x, y), th = std::atan2(y, x);
  r += 0.15 * (0.6 - r);
  th += 2 * kPi / 40;
  nx = r * std::cos(th);
  ny = r * std::sin(th);
}

void synth_render(double x, double y, int camera, int height, int width, uint8_t* rgb) {
  // Camera k mirrors x for odd k, so views differ but all encode the same state.
  const double sx = camera % 2 ? -x : x;
  const double cx = (sx + 1) / 2 * (width - 1), cy = (1 - (y + 1) / 2) * (height - 1);
  const double sigma = std::max(1.5, std::min(height, width) / 12.0);
  const uint8_t* col = kColors[camera % 6];
  for (int row = 0; row < height; ++row)
    for (int c = 0; c < width; ++c) {
      const double d2 = ((c - cx) * (c - cx) + (row - cy) * (row - cy)) / (2 * sigma * sigma);
      const double a = std::exp(-d2);
      const double bg = 30 + 40.0 * row / std::max(1, height - 1);  // fixed vertical gradient
      uint8_t* p = rgb + (static_cast<size_t>(row) * width + c) * 3;
      for (int k = 0; k < 3; ++k) p[k] = static_cast<uint8_t>(std::lround(bg * (1 - a) + col[k] * a));
    }
}

std::string synth_encoder_for(const std::string& codec) {
  if (codec == "av1" || codec == "libsvtav1") return "libsvtav1";
  if (codec == "h264" || codec == "libx264") return "libx264";
  if (codec == "hevc" || codec == "h265" || codec == "libx265") return "libx265";
  if (codec == "mpeg4") return "mpeg4";
  throw util::InputError(cat("--codec ", codec, " is not one of av1, h264, hevc, mpeg4"));
}

void check_synth_options(const SynthOptions& o) {
  auto in = [](const char* flag, int64_t v, int64_t lo, int64_t hi) {
    if (v < lo || v > hi) throw util::InputError(cat(flag, " ", v, " is out of range: use ", lo, "..", hi));
  };
  in("--episodes", o.episodes, 1, 100000);
  in("--frames", o.frames, 2, 1000000);
  if (static_cast<int64_t>(o.episodes) * o.frames > 10000000)
    throw util::InputError(cat("--episodes x --frames is ", static_cast<int64_t>(o.episodes) * o.frames,
                               " frames; synth writes at most 10000000"));
  in("--cameras", o.cameras, 0, 16);
  const std::string encoder = synth_encoder_for(o.codec);
  const int min_side = encoder == "libsvtav1" ? 64 : 16;  // SVT-AV1 refuses smaller frames
  in("--height", o.height, min_side, 4096);
  in("--width", o.width, min_side, 4096);
  if (o.height % 2 || o.width % 2) throw util::InputError(cat("--height and --width must be even for --codec ", o.codec));
  in("--fps", o.fps, 1, 1000);
  in("--gop", o.gop, 1, 1000);
  in("--crf", o.crf, 0, encoder == "libsvtav1" ? 63 : 51);  // the encoders' own ranges
}

DatasetMeta synth_dataset(const std::filesystem::path& output, const SynthOptions& o) {
  if (output.empty()) throw util::InputError("synth needs an output directory");
  check_synth_options(o);
  WriterOptions w;
  w.fps = o.fps;
  w.robot_type = "synthetic_blob";
  w.overwrite = o.overwrite;
  w.video.codec = synth_encoder_for(o.codec);
  w.video.gop = o.gop;
  w.video.crf = o.crf;
  Feature state{"observation.state", "float32", {2}, util::Json::array({"x", "y"}), {}};
  Feature action{"action", "float32", {2}, util::Json::array({"x", "y"}), {}};
  w.features = {state, action};
  for (int k = 0; k < o.cameras; ++k)
    w.features.push_back(Feature{cat("observation.images.cam", k), "video", {o.height, o.width, 3},
                                 util::Json::array({"height", "width", "channels"}), {}});
  DatasetWriter writer(output, w);
  Rng rng{o.seed * 0x9E3779B97F4A7C15ull + 12345};
  util::Progress progress("synth", static_cast<int64_t>(o.episodes) * o.frames);
  for (int e = 0; e < o.episodes; ++e) {
    double r = 0.1 + 0.85 * rng.uniform(), th = 2 * kPi * rng.uniform();
    double x = r * std::cos(th), y = r * std::sin(th);
    writer.begin_episode();
    for (int t = 0; t < o.frames; ++t) {
      double nx, ny;
      synth_next_state(x, y, nx, ny);
      std::map<std::string, Array> frame;
      Array s(DType::Float32, {2}), a(DType::Float32, {2});
      s.data<float>()[0] = static_cast<float>(x);
      s.data<float>()[1] = static_cast<float>(y);
      a.data<float>()[0] = static_cast<float>(nx);
      a.data<float>()[1] = static_cast<float>(ny);
      frame["observation.state"] = std::move(s);
      frame["action"] = std::move(a);
      for (int k = 0; k < o.cameras; ++k) {
        Array cam(DType::UInt8, {o.height, o.width, 3});
        synth_render(x, y, k, o.height, o.width, cam.data<uint8_t>());
        frame[cat("observation.images.cam", k)] = std::move(cam);
      }
      writer.add_frame(frame, "move the blob around the circle");
      x = nx;
      y = ny;
      if (o.progress) progress.advance();
    }
    writer.end_episode();
  }
  auto meta = writer.finish();
  if (o.progress) progress.finish();
  return meta;
}

}  // namespace robotrain::dataset
