// `robotrain dataset synth|info|validate|bench-loader`.
#include <algorithm>
#include <chrono>
#include <limits>
#include <iostream>
#include <thread>

#include "cli/command.h"
#include "dataset/info.h"
#include "dataset/loader.h"
#include "dataset/synth.h"
#include "dataset/validate.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

namespace robotrain::cli {
namespace {

using util::cat;

constexpr int64_t kMaxSeed = 4294967295;

void add_synth(CLI::App& group) {
  auto* cmd = group.add_subcommand("synth", "Write a small synthetic LeRobot v3.0 dataset (state, action, AV1 cameras)");
  cmd->footer(
      "A blob circles toward radius 0.6; observation.state is its (x, y), every camera shows it,\n"
      "and action is the next state - a learnable function of the observations.\n"
      "Example: robotrain dataset synth --output data/synth --episodes 4 --frames 60");
  auto o = std::make_shared<dataset::SynthOptions>();
  auto output = std::make_shared<std::string>();
  cmd->add_option("--output,-o", *output, "Directory to create (must not exist unless --overwrite)")->required();
  cmd->add_option("--episodes", o->episodes, "Number of episodes")->capture_default_str()->transform(int_in(1, 100000));
  cmd->add_option("--frames", o->frames, "Frames per episode")->capture_default_str()->transform(int_in(2, 1000000));
  cmd->add_option("--cameras", o->cameras, "Number of cameras (observation.images.cam<i>)")
      ->capture_default_str()
      ->transform(int_in(0, 16));
  cmd->add_option("--height", o->height, "Camera height in pixels")->capture_default_str()->transform(int_in(16, 4096));
  cmd->add_option("--width", o->width, "Camera width in pixels")->capture_default_str()->transform(int_in(16, 4096));
  cmd->add_option("--fps", o->fps, "Frames per second")->capture_default_str()->transform(int_in(1, 1000));
  cmd->add_option("--seed", o->seed, "Random seed (start positions)")->capture_default_str()->transform(int_in(0, kMaxSeed));
  cmd->add_option("--codec,--vcodec", o->codec, "Video codec: av1 (libsvtav1), h264, hevc, mpeg4")->capture_default_str();
  cmd->add_option("--gop,-g", o->gop, "Keyframe interval")->capture_default_str()->transform(int_in(1, 10000));
  cmd->add_option("--crf", o->crf, "Constant rate factor (av1 0-63, h264/hevc 0-51; mpeg4 ignores it)")
      ->capture_default_str()
      ->transform(int_in(0, 63));
  cmd->add_flag("--overwrite", o->overwrite, "Replace an existing output directory");
  cmd->callback([o, output] {
    if (output->empty()) throw util::InputError("--output is empty; name the directory to create");
    dataset::check_synth_options(*o);  // flag errors before any work
    auto meta = dataset::synth_dataset(*output, *o);
    std::cout << "wrote " << meta.root.string() << ": " << meta.total_episodes << " episodes, " << meta.total_frames
              << " frames, " << meta.camera_keys().size() << " camera(s) " << o->width << "x" << o->height << " "
              << o->codec << "\n";
  });
}

void add_info(CLI::App& group) {
  auto* cmd = group.add_subcommand("info", "Summarise a LeRobot dataset (v3.0 or v2.1)");
  cmd->footer("Shows episodes, frames, fps, features with shapes and codecs, size on disk, missing files and warnings.");
  auto path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  cmd->add_option("path", *path, "Dataset root (the folder holding meta/)")->required();
  cmd->add_flag("--json", *json, "Print as JSON");
  cmd->callback([path, json] {
    auto summary = dataset::dataset_summary(dataset::load_metadata(*path));
    if (*json) std::cout << summary.dump(2) << "\n";
    else std::cout << dataset::format_summary(summary);
  });
}

void add_validate(CLI::App& group) {
  auto* cmd = group.add_subcommand("validate", "Check every invariant of a LeRobot dataset; exit 1 when any is violated");
  cmd->footer(
      "Checks: info.json types and counts, contiguous global index, episode ranges and lengths,\n"
      "task lists, frame_index sequences, timestamp == frame_index / fps (1e-4 s), task references,\n"
      "every feature column against its dtype and shape, images against their declared size,\n"
      "normalisation stats, paths inside the dataset, video files (duration, fps, resolution) and\n"
      "a decode of the first, middle and last frame of each (--deep: every frame). Every violation\n"
      "is listed; metadata that cannot be read at all is one error line (exit 2).");
  auto path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto limit = std::make_shared<int>(200);
  auto deep = std::make_shared<bool>(false);
  cmd->add_option("path", *path, "Dataset root (the folder holding meta/)")->required();
  cmd->add_flag("--json", *json, "Print as JSON");
  cmd->add_flag("--deep", *deep, "Decode every video frame and image (default: first, middle and last of each file)");
  cmd->add_option("--max-print", *limit, "Violations printed in text mode (all are counted)")
      ->capture_default_str()
      ->transform(int_in(0, std::numeric_limits<int>::max()));
  cmd->callback([path, json, limit, deep] {
    auto meta = dataset::load_metadata(*path);
    dataset::ValidateOptions vo;
    vo.progress = !*json;
    vo.deep = *deep;
    auto report = dataset::validate_dataset(meta, vo);
    if (*json) {
      // Violations quote dataset strings, which need not be UTF-8.
      std::cout << dataset::report_to_json(report).dump(2, ' ', false, util::Json::error_handler_t::replace) << "\n";
    } else {
      for (const auto& w : report.warnings) std::cout << "warning: " << w << "\n";
      int shown = 0;
      for (const auto& v : report.violations) {
        if (shown++ >= *limit) break;
        std::cout << "violation: " << v.where << ": " << v.what << "\n";
      }
      if (static_cast<int>(report.violations.size()) > *limit)
        std::cout << "... " << report.violations.size() - *limit << " more (use --json for all)\n";
      std::cout << (report.ok() ? "OK" : "INVALID") << ": " << report.episodes << " episodes, " << report.frames_checked
                << " frames, " << report.videos_checked << " video files checked, " << report.violations.size()
                << " violation(s)\n";
    }
    if (!report.ok()) set_exit_code(1);
  });
}

// An action chunk longer than every episode is padding only, and its offsets are allocated
// for every sample: the data bounds it. The default shrinks to fit; a value given does not.
int chunk_for_data(int chunk, bool given, const dataset::DatasetMeta& meta) {
  int64_t longest = 0;
  for (const auto& e : meta.episodes) longest = std::max(longest, e.length);
  if (chunk <= longest) return chunk;
  if (!given) return static_cast<int>(longest);
  throw util::InputError(cat("--chunk-size ", chunk, " is longer than every episode of ", meta.root.string(),
                             " (the longest has ", longest, " frames); give at most ", longest));
}

void add_bench_loader(CLI::App& group) {
  auto* cmd = group.add_subcommand("bench-loader", "Time the data loader over a dataset (samples/s, data wait per batch)");
  cmd->footer("Loads batches as training would (ACT-style action chunk), with no compute between steps.");
  auto path = std::make_shared<std::string>();
  auto batch = std::make_shared<int>(8);
  auto steps = std::make_shared<int>(50);
  auto workers = std::make_shared<int>(std::max(1u, std::min(4u, std::thread::hardware_concurrency())));
  auto chunk = std::make_shared<int>(100);
  auto seed = std::make_shared<uint64_t>(1000);
  auto u8 = std::make_shared<bool>(false);
  auto json = std::make_shared<bool>(false);
  cmd->add_option("path", *path, "Dataset root")->required();
  cmd->add_option("--batch-size,--batch_size", *batch, "Samples per batch")->capture_default_str()->transform(int_in(1, 65536));
  cmd->add_option("--steps", *steps, "Batches to load")->capture_default_str()->transform(int_in(1, 1000000000));
  cmd->add_option("--num-workers,--num_workers", *workers, "Loader threads (0: load on the calling thread)")
      ->capture_default_str()
      ->transform(int_in(0, max_loader_workers()));
  auto* chunk_opt = cmd->add_option("--chunk-size", *chunk, "Action offsets 0..N-1 per sample (0: none; at most the longest episode)")
                        ->capture_default_str()
                        ->transform(int_in(0, 100000));
  cmd->add_option("--seed", *seed, "Sampler seed")->capture_default_str()->transform(int_in(0, kMaxSeed));
  cmd->add_flag("--uint8", *u8, "Cameras as uint8 instead of float32");
  cmd->add_flag("--json", *json, "Print as JSON");
  cmd->callback([=] {
    dataset::DatasetOptions opt;
    opt.images_as_uint8 = *u8;
    auto meta = dataset::load_metadata(*path);
    *chunk = chunk_for_data(*chunk, chunk_opt->count() > 0, meta);
    for (const auto& f : meta.features)
      if (dataset::feature_role(f) == dataset::FeatureRole::Action && *chunk > 0) {
        std::vector<int> d(*chunk);
        for (int i = 0; i < *chunk; ++i) d[i] = i;
        opt.delta_indices[f.key] = d;
        break;
      }
    dataset::LeRobotDataset ds(*path, opt);
    dataset::SamplerOptions so;
    so.seed = *seed;
    dataset::LoaderOptions lo;
    lo.batch_size = *batch;
    lo.num_workers = *workers;
    lo.drop_last = ds.num_frames() >= *batch;
    dataset::DataLoader loader(ds, so, lo);
    const auto t0 = std::chrono::steady_clock::now();
    double wait = 0, first_wait = 0;
    int64_t samples = 0;
    for (int s = 0; s < *steps; ++s) {
      auto b = loader.next();
      if (s == 0) first_wait = b.wait_s;
      wait += b.wait_s;
      samples += b.size;
      loader.recycle(std::move(b));
    }
    const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    util::Json j = {{"dataset", meta.root.string()},
                    {"batch_size", *batch},
                    {"steps", *steps},
                    {"num_workers", *workers},
                    {"samples", samples},
                    {"seconds", total},
                    {"samples_per_s", samples / total},
                    {"mean_wait_s", wait / *steps},
                    {"first_wait_s", first_wait}};
    if (*json) std::cout << j.dump(2) << "\n";
    else
      std::cout << "bench-loader: " << *steps << " batches of " << *batch << " with " << *workers << " worker(s) in "
                << cat(std::round(total * 1000) / 1000) << " s: " << cat(std::round(samples / total * 10) / 10)
                << " samples/s, mean data wait " << cat(std::round(wait / *steps * 1e4) / 10) << " ms/batch\n";
  });
}

CommandRegistrar reg(10, [](CLI::App& root) {
  auto& g = group(root, "dataset", "Inspect, validate, generate and time LeRobot datasets");
  add_synth(g);
  add_info(g);
  add_validate(g);
  add_bench_loader(g);
});

}  // namespace
}  // namespace robotrain::cli
