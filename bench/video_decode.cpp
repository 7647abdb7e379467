// bench-area: dataset
// Random frame access vs. sequential decoding on a LeRobot-style video (640x480 AV1, GOP 2,
// crf 30, libsvtav1 preset 12). The baseline is the sequential single-thread decode rate of
// the same file, measured in the same run; the target is random single-frame access at
// >= 40% of it (a random frame in GOP 2 costs at most two decodes).
//
//   bench_video_decode [--frames N] [--queries N] [--width W] [--height H]
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "dataset/video/video.h"
#include "util/fs.h"

namespace video = robotrain::dataset::video;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Moving blocks over a gradient: every frame differs, like a camera watching a robot.
void fill_frame(std::vector<uint8_t>& rgb, int w, int h, int i) {
  int bx = (i * 7) % (w - 64), by = (i * 3) % (h - 64);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = &rgb[(static_cast<size_t>(y) * w + x) * 3];
      bool block = x >= bx && x < bx + 64 && y >= by && y < by + 64;
      p[0] = block ? 230 : static_cast<uint8_t>(255 * x / w);
      p[1] = block ? 40 : static_cast<uint8_t>(255 * y / h);
      p[2] = static_cast<uint8_t>((x + y + 4 * i) & 255);
    }
}

int arg_int(int argc, char** argv, const char* name, int def) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return std::atoi(argv[i + 1]);
  return def;
}

// Random access through a shared pool from `threads` threads; returns frames per second.
double pool_rate(const std::filesystem::path& file, int threads, int queries_per_thread, int frames, double fps) {
  video::DecoderPool pool(video::DecoderOptions{1}, threads);
  std::atomic<long> done{0};
  auto t0 = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      std::mt19937 rng(100 + t);
      for (int k = 0; k < queries_per_thread; ++k) {
        double ts = static_cast<int>(rng() % frames) / fps;
        auto lease = pool.acquire(file, ts);
        done += static_cast<long>(lease->frames_at({ts}).size());
      }
    });
  for (auto& w : workers) w.join();
  return done.load() / seconds_since(t0);
}

}  // namespace

int main(int argc, char** argv) {
  const int frames = arg_int(argc, argv, "--frames", 300);
  const int queries = arg_int(argc, argv, "--queries", 300);
  const int w = arg_int(argc, argv, "--width", 640), h = arg_int(argc, argv, "--height", 480);
  const int fps = 30;
  robotrain::util::TempDir tmp("robotrain-bench-video");
  auto file = tmp.path() / "camera.mp4";

  auto t_enc = Clock::now();
  {
    video::EncoderOptions o;  // LeRobot defaults: libsvtav1, yuv420p, g=2, crf 30, preset 12
    o.width = w;
    o.height = h;
    o.fps = fps;
    video::Encoder enc(file, o);
    std::vector<uint8_t> rgb(static_cast<size_t>(w) * h * 3);
    for (int i = 0; i < frames; ++i) {
      fill_frame(rgb, w, h, i);
      enc.add_frame(rgb.data());
    }
    enc.finish();
  }
  double encode_s = seconds_since(t_enc);
  auto info = video::probe(file);

  // (1) Baseline: sequential single-thread decode (with RGB conversion, as every returned
  // random frame gets too). Best of two passes so page-cache warm-up does not count.
  double seq_fps = 0;
  for (int pass = 0; pass < 2; ++pass) {
    video::Decoder d(file, video::DecoderOptions{1});
    video::Frame f;
    long n = 0;
    auto t0 = Clock::now();
    while (d.next(f)) ++n;
    seq_fps = std::max(seq_fps, n / seconds_since(t0));
  }

  // For reference: the ffmpeg CLI decoding the same file on one thread (no RGB conversion,
  // includes process start-up); -1 when the CLI is not installed.
  double cli_fps = -1;
  {
    std::string cmd = "ffmpeg -v error -threads 1 -c:v libdav1d -i '" + file.string() + "' -f null - >/dev/null 2>&1";
    auto t0 = Clock::now();
    if (std::system(cmd.c_str()) == 0) cli_fps = frames / seconds_since(t0);
  }

  // (2) Random single-frame access, one decoder, one thread.
  video::Decoder d(file, video::DecoderOptions{1});
  std::mt19937 rng(7);
  std::vector<double> ts(queries);
  for (auto& t : ts) t = static_cast<int>(rng() % frames) / static_cast<double>(fps);
  d.frames_at({0.0});  // open the codec and warm the caches outside the timing
  int64_t dec0 = d.frames_decoded(), seek0 = d.seeks();
  auto t0 = Clock::now();
  for (double t : ts) d.frames_at({t});
  double random_fps = queries / seconds_since(t0);
  double decodes_per_frame = static_cast<double>(d.frames_decoded() - dec0) / queries;
  double seeks_per_frame = static_cast<double>(d.seeks() - seek0) / queries;
  double ratio = random_fps / seq_fps;

  // (3) Random access from several threads sharing a DecoderPool.
  double pool1 = pool_rate(file, 1, queries, frames, fps);
  double pool2 = pool_rate(file, 2, queries, frames, fps);

  std::printf(
      "{\"bench\":\"video_decode\",\"video\":{\"codec\":\"%s\",\"width\":%d,\"height\":%d,\"fps\":%g,\"frames\":%lld,"
      "\"pix_fmt\":\"%s\",\"gop\":2,\"crf\":30,\"encode_s\":%.3f},"
      "\"sequential_fps\":%.1f,\"ffmpeg_cli_sequential_fps\":%.1f,\"random_fps\":%.1f,\"random_over_sequential\":%.3f,\"target_ratio\":0.40,"
      "\"meets_target\":%s,\"random_decodes_per_frame\":%.3f,\"random_seeks_per_frame\":%.3f,"
      "\"pool_random_fps\":{\"1\":%.1f,\"2\":%.1f},\"pool_scaling_2_over_1\":%.3f,\"hardware_threads\":%u}\n",
      info.codec.c_str(), info.width, info.height, info.fps, static_cast<long long>(info.frame_count), info.pix_fmt.c_str(),
      encode_s, seq_fps, cli_fps, random_fps, ratio, ratio >= 0.40 ? "true" : "false", decodes_per_frame, seeks_per_frame, pool1,
      pool2, pool2 / pool1, std::thread::hardware_concurrency());
  return 0;
}
