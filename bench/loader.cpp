// bench-area: dataset
// Loader throughput on a synthetic dataset shaped like a real ACT setup: 2 cameras 480x640
// AV1 (GOP 2), action chunk offsets 0..99, batch 8. The reference, measured in the same run on
// the same file: single-thread sequential decode rate. Prints one JSON object.
//   bench_loader [--episodes 4] [--frames 100] [--steps 30] [--keep DIR | --reuse DIR]
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <thread>

#include "dataset/loader.h"
#include "dataset/synth.h"
#include "dataset/video/video.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/memory.h"

using namespace robotrain;
using namespace robotrain::dataset;
using Clock = std::chrono::steady_clock;

static double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

int main(int argc, char** argv) {
  robotrain::util::keep_freed_memory();  // as the robotrain binary does
  int episodes = 4, frames = 100, steps = 30;
  std::string keep, reuse;  // --keep DIR: write the dataset there; --reuse DIR: skip synth
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--episodes") episodes = std::atoi(argv[i + 1]);
    else if (k == "--frames") frames = std::atoi(argv[i + 1]);
    else if (k == "--steps") steps = std::atoi(argv[i + 1]);
    else if (k == "--keep") keep = argv[i + 1];
    else if (k == "--reuse") reuse = argv[i + 1];
  }
  util::TempDir tmp("robotrain-bench-loader");
  const auto root = !reuse.empty() ? std::filesystem::path(reuse) : keep.empty() ? tmp.path() / "ds" : std::filesystem::path(keep);
  SynthOptions so;
  so.episodes = episodes;
  so.frames = frames;
  so.cameras = 2;
  so.height = 480;
  so.width = 640;
  so.progress = false;
  so.overwrite = true;
  auto t_synth = Clock::now();
  auto meta = reuse.empty() ? synth_dataset(root, so) : load_metadata(reuse);
  const double synth_s = since(t_synth);
  const auto video = meta.episodes.front().videos.begin()->second.path;

  // Reference: sequential single-thread decode of the whole file.
  int64_t seq_frames = 0;
  auto t0 = Clock::now();
  {
    video::Decoder d(video, {.threads = 1});
    video::Frame f;
    while (d.next(f)) ++seq_frames;
  }
  const double seq_fps = seq_frames / since(t0);

  // Random single-frame access, one decoder, one thread.
  std::mt19937 rng(1);
  const int64_t total = meta.total_frames;
  const int random_n = std::min<int64_t>(200, total);
  int64_t decoded = 0;
  t0 = Clock::now();
  {
    video::Decoder d(video, {.threads = 1});
    for (int i = 0; i < random_n; ++i) {
      int64_t k = std::uniform_int_distribution<int64_t>(0, total - 1)(rng);
      d.frames_at({static_cast<double>(k) / meta.fps}, 1e-4);
    }
    decoded = d.frames_decoded();
  }
  const double random_fps = random_n / since(t0);

  DatasetOptions opt;
  std::vector<int> chunk(100);
  for (int i = 0; i < 100; ++i) chunk[i] = i;
  opt.delta_indices["action"] = chunk;
  LeRobotDataset ds(root, opt);
  DatasetOptions opt8 = opt;
  opt8.images_as_uint8 = true;
  LeRobotDataset ds8(root, opt8);
  util::Json runs = util::Json::array();
  double sps1 = 0, sps2 = 0, sps8 = 0, sps_nr = 0;
  // Rows: 1 and 2 workers float32 (batches recycled as a training loop does), 2 workers with
  // uint8 cameras, 2 workers float32 without recycling.
  for (int row = 0; row < 4; ++row) {
    int workers = row == 0 ? 1 : 2;
    const bool u8 = row == 2, recycle = row != 3;
    DataLoader dl(u8 ? ds8 : ds, {.seed = 1000}, {.batch_size = 8, .num_workers = workers, .prefetch_batches = 4});
    dl.next();  // warm-up: open decoders, read the data file
    double wait = 0;
    t0 = Clock::now();
    for (int s = 0; s < steps; ++s) {
      Batch b = dl.next();
      wait += b.wait_s;
      if (recycle) dl.recycle(std::move(b));
    }
    const double secs = since(t0);
    const double sps = steps * 8 / secs;
    (row == 0 ? sps1 : row == 1 ? sps2 : row == 2 ? sps8 : sps_nr) = sps;
    runs.push_back({{"num_workers", workers},
                    {"cameras_dtype", u8 ? "uint8" : "float32"},
                    {"recycle", recycle},
                    {"samples_per_s", sps},
                    {"decode_frames_per_s", sps * 2},
                    {"mean_wait_s", wait / steps}});
  }
  util::Json out = {{"bench", "loader"},
                    {"dataset", {{"episodes", episodes}, {"frames", total}, {"cameras", 2}, {"height", 480}, {"width", 640},
                                 {"codec", "av1"}, {"gop", 2}, {"synth_s", synth_s}}},
                    {"batch_size", 8},
                    {"action_offsets", 100},
                    {"reference_sequential_decode_fps", seq_fps},
                    {"random_access_decode_fps", random_fps},
                    {"random_access_decodes_per_frame", static_cast<double>(decoded) / random_n},
                    {"random_vs_sequential", random_fps / seq_fps},
                    {"loader", runs},
                    {"loader_scaling_2_vs_1", sps2 / sps1},
                    {"hardware_threads", std::thread::hardware_concurrency()}};
  std::cout << out.dump(2) << std::endl;
  return 0;
}
