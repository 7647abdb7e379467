// A LeRobot dataset's metadata as `robotrain dataset info` reads it: meta/info.json,
// episodes.jsonl, tasks.jsonl, episodes_stats.jsonl and stats.json. The first input byte picks
// which file the rest of the input replaces in an otherwise valid v2.1 dataset (on tmpfs), then
// load_metadata and dataset_summary run on it.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "dataset/lerobot_dataset.h"
#include "dataset/validate.h"
#include "fuzz_support.h"

namespace fs = std::filesystem;

namespace {

const char* const kFiles[] = {"meta/info.json", "meta/episodes.jsonl", "meta/tasks.jsonl",
                              "meta/episodes_stats.jsonl", "meta/stats.json"};

const char* const kInfo = R"({"codebase_version": "v2.1", "robot_type": "fuzz", "fps": 10, "total_episodes": 2,
 "total_frames": 8, "chunks_size": 1000,
 "data_path": "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet",
 "video_path": "videos/chunk-{episode_chunk:03d}/{video_key}/episode_{episode_index:06d}.mp4",
 "features": {"observation.state": {"dtype": "float32", "shape": [2], "names": ["a", "b"]},
  "action": {"dtype": "float32", "shape": [2], "names": ["x", "y"]},
  "observation.images.top": {"dtype": "video", "shape": [64, 96, 3], "names": ["height", "width", "channels"]},
  "timestamp": {"dtype": "float32", "shape": [1], "names": null},
  "episode_index": {"dtype": "int64", "shape": [1], "names": null}}})";
const char* const kEpisodes = "{\"episode_index\": 0, \"tasks\": [\"pick\"], \"length\": 5}\n"
                              "{\"episode_index\": 1, \"tasks\": [\"place\"], \"length\": 3}\n";
const char* const kTasks = "{\"task_index\": 0, \"task\": \"pick\"}\n{\"task_index\": 1, \"task\": \"place\"}\n";
const char* const kEpisodeStats =
    "{\"episode_index\": 0, \"stats\": {\"action\": {\"min\": [0, 0], \"max\": [1, 1], \"mean\": [0.5, 0.5], "
    "\"std\": [0.1, 0.1], \"count\": [5]}}}\n";

void write(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary | std::ios::trunc) << s; }

fs::path root() {
  static const fs::path r = [] {
    fs::path base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    fs::path p = base / ("robotrain-fuzz-meta-" + std::to_string(::getpid()));
    fs::create_directories(p / "meta");
    return p;
  }();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const bool strict = robotrain::fuzz::strict_from_env();
  const fs::path r = root();
  write(r / kFiles[0], kInfo);
  write(r / kFiles[1], kEpisodes);
  write(r / kFiles[2], kTasks);
  write(r / kFiles[3], kEpisodeStats);
  fs::remove(r / kFiles[4]);
  write(r / kFiles[data[0] % 5], std::string(reinterpret_cast<const char*>(data + 1), size - 1));
  robotrain::fuzz::guarded(strict, [&] {
    auto meta = robotrain::dataset::load_metadata(r);
    robotrain::dataset::format_summary(robotrain::dataset::dataset_summary(meta));
  });
  return 0;
}
