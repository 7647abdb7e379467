// bench-area: dataset
// Loader throughput on a real-shaped dataset: 640x480 AV1, GOP 2, CRF 30, SVT-AV1 preset 12 as
// LeRobot encodes it, with camera-like content (a textured scene panning slowly, a moving
// object, sensor noise; `dataset synth`'s flat frames decode several times faster than a real
// camera's), one frame per sample. Reported in the same run:
//  - the reference: single-thread sequential decode rate of one file, and random access;
//  - robotrain's loader on one core (1 worker) and all cores, float32 frames (what LeRobot's
//    loader returns) and uint8 (what `robotrain train` loads);
//  - with --peer, LeRobot's own decode_video_frames on the same files and the same samples
//    (bench/peers/decode_frames.py with the venv's Python; pyav and torchcodec, one process per
//    core as its DataLoader workers, as shipped and with robotrain's runtime settings),
//    interleaved round by round with robotrain's loader;
//  - ACT-style samples (two cameras, action chunk of 100) on one core and all cores: scaling.
// Prints one JSON line. ratio_vs_peer* are time ratios (robotrain's time per sample over
// LeRobot's, on one core; below 1 is faster), against torchcodec, LeRobot's default backend.
//   bench_loader [--samples 240] [--rounds 3] [--peer] [--keep DIR | --reuse DIR]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include "dataset/loader.h"
#include "dataset/synth.h"
#include "dataset/video/video.h"
#include "peer_process.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/memory.h"
#include "util/native_runtime.h"
#include "util/strings.h"

using namespace robotrain;
using namespace robotrain::dataset;
using Clock = std::chrono::steady_clock;
using util::Json;

namespace {

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Smooth value noise in [0, 1), tiling every 256 pixels.
struct Texture {
  std::vector<float> v;
  Texture() : v(256 * 256) {
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(0, 1);
    std::vector<float> grid(256 * 256);
    for (auto& g : grid) g = u(rng);
    auto at = [&](int x, int y, int cell) {
      // bilinear interpolation of a grid of period `cell`
      const int gx = x / cell, gy = y / cell;
      const float fx = (x % cell) / static_cast<float>(cell), fy = (y % cell) / static_cast<float>(cell);
      auto g = [&](int i, int j) { return grid[((j * 37) & 255) * 256 + ((i * 17 + j) & 255)]; };
      const float a = g(gx, gy), b = g(gx + 1, gy), c = g(gx, gy + 1), d = g(gx + 1, gy + 1);
      return (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy;
    };
    for (int y = 0; y < 256; ++y)
      for (int x = 0; x < 256; ++x) v[y * 256 + x] = 0.5f * at(x, y, 32) + 0.3f * at(x, y, 8) + 0.2f * at(x, y, 2);
  }
  float operator()(int x, int y) const { return v[(y & 255) * 256 + (x & 255)]; }
};

uint32_t hash32(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return static_cast<uint32_t>(x);
}

// A camera-like frame: a textured scene panning slowly, a moving object, sensor noise.
void camera_frame(const Texture& tex, int camera, int64_t frame, int w, int h, uint8_t* rgb) {
  const double t = frame / 30.0;
  const int pan_x = static_cast<int>(frame * 0.8) + camera * 97, pan_y = static_cast<int>(12 * std::sin(t * 0.7));
  const double ox = w * (0.5 + 0.3 * std::cos(t * 1.3 + camera)), oy = h * (0.5 + 0.25 * std::sin(t * 1.7));
  const double r2 = (0.12 * h) * (0.12 * h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const float s = tex(x + pan_x, y + pan_y);
      const float n = (static_cast<int>(hash32((frame * 1315423911ull) ^ (static_cast<uint64_t>(y) << 20 | x)) % 13) - 6);
      float c[3] = {40 + 170 * s, 60 + 150 * s * s, 90 + 120 * (1 - s)};
      const double dx = x - ox, dy = y - oy;
      if (dx * dx + dy * dy < r2) c[0] = 220 - 60 * s, c[1] = 80 + 40 * s, c[2] = 40;
      for (int k = 0; k < 3; ++k) rgb[(static_cast<size_t>(y) * w + x) * 3 + k] = static_cast<uint8_t>(std::clamp(c[k] + n, 0.0f, 255.0f));
    }
}

// `dataset synth` for the layout and tables, then every video re-encoded with camera-like
// frames (same size, frame count, rate and encoder settings).
DatasetMeta make_dataset(const std::filesystem::path& root, int episodes, int frames, int cameras) {
  SynthOptions so;
  so.episodes = episodes;
  so.frames = frames;
  so.cameras = cameras;
  so.height = 480;
  so.width = 640;
  so.progress = false;
  so.overwrite = true;
  auto meta = synth_dataset(root, so);
  std::map<std::filesystem::path, std::pair<int, int64_t>> files;  // path -> (camera, frames)
  for (const auto& e : meta.episodes) {
    int cam = 0;
    for (const auto& [key, seg] : e.videos) {
      auto& f = files[seg.path];
      f.first = cam++;
      f.second = std::max<int64_t>(f.second, std::llround(seg.to_timestamp * meta.fps));
    }
  }
  Texture tex;
  std::vector<uint8_t> rgb(640 * 480 * 3);
  for (const auto& [path, info] : files) {
    video::EncoderOptions eo;
    eo.width = 640;
    eo.height = 480;
    eo.fps = meta.fps;
    video::Encoder enc(path, eo);
    for (int64_t i = 0; i < info.second; ++i) {
      camera_frame(tex, info.first, i, 640, 480, rgb.data());
      enc.add_frame(rgb.data());
    }
    enc.finish();
  }
  return meta;
}

// samples/s of robotrain's loader over `samples` samples (after a warm-up batch).
double loader_rate(const LeRobotDataset& ds, int workers, int samples, uint64_t seed) {
  const int batch = 8;
  DataLoader dl(ds, {.seed = seed}, {.batch_size = batch, .num_workers = workers, .prefetch_batches = std::max(2, workers)});
  dl.recycle(dl.next());  // warm-up: threads, decoders, data file
  const int steps = std::max(1, samples / batch);
  auto t0 = Clock::now();
  for (int s = 0; s < steps; ++s) dl.recycle(dl.next());
  return steps * batch / since(t0);
}

// The samples robotrain's loader draws (same sampler, same seed): per sample, the (file, time)
// of each camera's frame, as LeRobotDataset.__getitem__ asks decode_video_frames for them.
Json sample_requests(const LeRobotDataset& ds, uint64_t seed, int n) {
  EpisodeAwareSampler sampler(ds, {.seed = seed});
  const auto& meta = ds.meta();
  Json out = Json::array();
  for (int i = 0; i < n; ++i) {
    const int64_t g = sampler.next();
    const Episode* ep = nullptr;
    for (const auto& e : meta.episodes)
      if (g >= e.from_index && g < e.to_index) ep = &e;
    Json cams = Json::array();
    for (const auto& key : meta.video_keys()) {
      const auto& seg = ep->videos.at(key);
      cams.push_back({seg.path.string(), seg.from_timestamp + static_cast<double>(g - ep->from_index) / meta.fps});
    }
    out.push_back(cams);
  }
  return out;
}

// N processes of bench/peers/decode_frames.py, one per core measured.
class PeerWorkers {
 public:
  PeerWorkers(const std::string& backend, bool same_settings, int processes, const Json& samples, const std::filesystem::path& dir) {
    const auto unset = same_settings ? std::vector<std::string>{} : bench::robotrain_runtime_variables();
    for (int k = 0; k < processes; ++k) {
      Json spec{{"backend", backend}, {"samples", samples}, {"shard", k}, {"shards", processes}, {"warmup", 4},
                {"same_settings", same_settings}, {"tolerance_s", 1e-4}};
      auto file = dir / util::cat(backend, same_settings ? "_same_" : "_shipped_", processes, "_", k, ".json");
      util::atomic_write_file(file, spec.dump());
      procs_.push_back(std::make_unique<bench::PeerProcess>(
          std::vector<std::string>{bench::peer_python(), bench::peer_script("decode_frames.py"), file.string()},
          std::map<std::string, std::string>{}, unset));
    }
    for (auto& p : procs_) p->read_json(600);
  }
  // samples/s of all processes together, each decoding samples / N.
  double rate(int samples) {
    const int each = std::max(1, samples / static_cast<int>(procs_.size()));
    auto t0 = Clock::now();
    for (auto& p : procs_) p->send("run " + std::to_string(each));
    for (auto& p : procs_) {
      auto j = p->read_json(3600);
      if (!j.contains("seconds")) throw std::runtime_error("decode_frames.py: " + j.dump());
    }
    return each * static_cast<double>(procs_.size()) / since(t0);
  }

 private:
  std::vector<std::unique_ptr<bench::PeerProcess>> procs_;
};

}  // namespace

int main(int argc, char** argv) {
  robotrain::util::keep_freed_memory();  // as the robotrain binary does
  int samples = 240, rounds = 3;
  bool peer = false;
  std::string keep, reuse;  // --keep DIR: write the datasets there; --reuse DIR: skip generating them
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (k == "--peer") peer = true;
    else if (k == "--samples" && i + 1 < argc) samples = std::max(8, std::atoi(argv[++i]));
    else if (k == "--rounds" && i + 1 < argc) rounds = std::max(1, std::atoi(argv[++i]));
    else if (k == "--keep" && i + 1 < argc) keep = argv[++i];
    else if (k == "--reuse" && i + 1 < argc) reuse = argv[++i];
    else {
      std::cerr << "usage: bench_loader [--samples N] [--rounds N] [--peer] [--keep DIR | --reuse DIR]\n";
      return 2;
    }
  }
  try {
    util::TempDir tmp("robotrain-bench-loader");
    const std::filesystem::path base = !reuse.empty() ? reuse : !keep.empty() ? keep : tmp.path().string();
    const auto one_cam = base / "one_camera", two_cams = base / "two_cameras";
    auto t_make = Clock::now();
    if (reuse.empty()) {
      make_dataset(one_cam, 8, 150, 1);
      make_dataset(two_cams, 4, 150, 2);
    }
    const double make_s = since(t_make);
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

    DatasetOptions f32_opts;
    LeRobotDataset ds_f32(one_cam, f32_opts);
    DatasetOptions u8_opts;
    u8_opts.images_as_uint8 = true;
    LeRobotDataset ds_u8(one_cam, u8_opts);
    const auto& meta = ds_f32.meta();
    const auto video = meta.episodes.front().videos.begin()->second.path;

    // Reference: sequential single-thread decode of one file, and random single frames.
    int64_t seq_frames = 0;
    auto t0 = Clock::now();
    {
      video::Decoder d(video, {.threads = 1});
      video::Frame f;
      while (d.next(f)) ++seq_frames;
    }
    const double seq_fps = seq_frames / since(t0);
    std::mt19937 rng(1);
    const int random_n = 120;
    int64_t decoded = 0;
    t0 = Clock::now();
    {
      video::Decoder d(video, {.threads = 1});
      for (int i = 0; i < random_n; ++i)
        d.frames_at({std::uniform_int_distribution<int64_t>(0, seq_frames - 1)(rng) / static_cast<double>(meta.fps)}, 1e-4);
      decoded = d.frames_decoded();
    }
    const double random_fps = random_n / since(t0);

    const uint64_t seed = 1000;
    std::unique_ptr<PeerWorkers> peers[2][2][2];  // backend, settings (0 shipped, 1 same), cores (0: one, 1: all)
    const char* backends[2] = {"torchcodec", "pyav"};
    if (peer) {
      auto requests = sample_requests(ds_f32, seed, samples * (rounds + 1));
      for (int b = 0; b < 2; ++b)
        for (int s = 0; s < 2; ++s)
          for (int c = 0; c < 2; ++c)
            peers[b][s][c] = std::make_unique<PeerWorkers>(backends[b], s == 1, c == 0 ? 1 : cores, requests, tmp.path());
    }
    std::vector<double> ours_f32[2], ours_u8[2], theirs[2][2][2];
    for (int r = 0; r < rounds; ++r) {
      for (int c = 0; c < 2; ++c) {
        const int workers = c == 0 ? 1 : cores;
        ours_f32[c].push_back(loader_rate(ds_f32, workers, samples, seed));
        ours_u8[c].push_back(loader_rate(ds_u8, workers, samples, seed));
        if (peer)
          for (int b = 0; b < 2; ++b)
            for (int s = 0; s < 2; ++s) theirs[b][s][c].push_back(peers[b][s][c]->rate(samples));
      }
    }
    auto med = bench::median_of;
    Json out{{"bench", "loader"},
             {"cpu", util::cpu_model()},
             {"hardware_threads", cores},
             {"dataset", {{"episodes", meta.total_episodes}, {"frames", meta.total_frames}, {"cameras", 1}, {"height", 480},
                          {"width", 640}, {"codec", "av1"}, {"gop", 2}, {"crf", 30}, {"generate_s", make_s}}},
             {"samples_per_measure", samples},
             {"rounds", rounds},
             {"statistic", "median"},
             {"reference_sequential_decode_fps", seq_fps},
             {"random_access_decode_fps", random_fps},
             {"random_access_decodes_per_frame", static_cast<double>(decoded) / random_n}};
    Json ours{{"float32", {{"one_core", med(ours_f32[0])}, {"all_cores", med(ours_f32[1])}}},
              {"uint8", {{"one_core", med(ours_u8[0])}, {"all_cores", med(ours_u8[1])}}}};
    out["robotrain_samples_per_s"] = ours;
    out["samples_per_s_per_core"] = med(ours_f32[0]);
    out["target_samples_per_s_per_core"] = 300;
    out["meets_target"] = med(ours_f32[0]) >= 300;
    if (peer) {
      Json lerobot = Json::object();
      for (int b = 0; b < 2; ++b)
        for (int s = 0; s < 2; ++s)
          lerobot[backends[b]][s ? "same_settings" : "as_shipped"] = {{"one_core", med(theirs[b][s][0])},
                                                                       {"all_cores", med(theirs[b][s][1])}};
      out["lerobot_samples_per_s"] = lerobot;
      // Time ratios (robotrain over LeRobot), paired round by round: rates invert.
      auto ratio = [&](int b, int s, int c) { return bench::paired_ratio(theirs[b][s][c], ours_f32[c]); };
      out["ratio_vs_peer"] = ratio(0, 0, 0);
      out["ratio_vs_peer_same_settings"] = ratio(0, 1, 0);
      Json by = Json::object();
      for (int b = 0; b < 2; ++b)
        by[backends[b]] = {{"one_core", {{"as_shipped", ratio(b, 0, 0)}, {"same_settings", ratio(b, 1, 0)}}},
                           {"all_cores", {{"as_shipped", ratio(b, 0, 1)}, {"same_settings", ratio(b, 1, 1)}}}};
      out["ratio_vs_peer_by_backend"] = by;
    }

    // ACT-style samples: two cameras, the action chunk of 100 offsets; scaling with cores.
    DatasetOptions act_opts;
    act_opts.images_as_uint8 = true;
    std::vector<int> chunk(100);
    for (int i = 0; i < 100; ++i) chunk[i] = i;
    act_opts.delta_indices["action"] = chunk;
    LeRobotDataset ds_act(two_cams, act_opts);
    std::vector<double> act[2];
    for (int r = 0; r < rounds; ++r)
      for (int c = 0; c < 2; ++c) act[c].push_back(loader_rate(ds_act, c == 0 ? 1 : cores, samples, seed));
    out["act_two_cameras_chunk_100"] = {{"samples_per_s", {{"one_core", med(act[0])}, {"all_cores", med(act[1])}}},
                                        {"scaling_all_vs_one", bench::paired_ratio(act[1], act[0])}};
    std::cout << out.dump() << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "bench_loader: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
