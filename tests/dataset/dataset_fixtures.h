#pragma once
// Hand-built LeRobot datasets for tests: files written directly (parquet writer, jsonl,
// info.json), independent of DatasetWriter, so reader and writer check each other.
#include <cmath>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "dataset/parquet/parquet.h"
#include "dataset/png.h"
#include "dataset/synth.h"
#include "dataset/video/video.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/strings.h"

namespace robotrain::test {

namespace fs = std::filesystem;
namespace pq = dataset::parquet;

// Known values per (episode, frame) so expected samples can be computed independently.
inline float fx_state(int64_t ep, int64_t f, int d) { return static_cast<float>(ep * 100 + f + d * 0.25); }
inline float fx_action(int64_t ep, int64_t f, int d) { return static_cast<float>(-(ep * 1000 + f * 10 + d)); }

// Blob position shown by the fixture's video camera at (episode, frame).
inline void fx_blob(int64_t ep, int64_t f, double& x, double& y) {
  x = -0.8 + 0.1 * static_cast<double>(f);
  y = 0.25 * static_cast<double>(ep) - 0.3;
}
inline std::vector<uint8_t> fx_frame(int64_t ep, int64_t f, int h = 64, int w = 96) {
  double x, y;
  fx_blob(ep, f, x, y);
  std::vector<uint8_t> rgb(static_cast<size_t>(h) * w * 3);
  dataset::synth_render(x, y, 0, h, w, rgb.data());
  return rgb;
}

inline pq::Column int_col(const std::string& name, const std::vector<int64_t>& v) {
  pq::Column c;
  c.name = name;
  c.type = pq::ValueType::Int64;
  c.ints = v;
  return c;
}

inline pq::Column float_col(const std::string& name, const std::vector<float>& v) {
  pq::Column c;
  c.name = name;
  c.type = pq::ValueType::Float;
  c.floats = v;
  return c;
}

inline pq::Column float_list_col(const std::string& name, const std::vector<std::vector<float>>& rows) {
  pq::Column c;
  c.name = name;
  c.type = pq::ValueType::Float;
  c.is_list = true;
  c.offsets = {0};
  for (const auto& r : rows) {
    c.floats.insert(c.floats.end(), r.begin(), r.end());
    c.offsets.push_back(static_cast<int64_t>(c.floats.size()));
  }
  return c;
}

struct FixtureOptions {
  std::vector<int64_t> lengths = {5, 8, 3};
  int fps = 10;
  std::string state_key = "observation.state";
  std::string action_key = "action";
  util::Json state_names = util::Json::array({"a", "b", "c"});
  std::string image_key;   // non-empty: an "image" dtype camera with PNG bytes (8x6)
  std::string video_key;   // non-empty: a "video" camera, one AV1 mp4 per episode (96x64)
  bool stats = true;
  bool tasks = true;
  std::function<void(int64_t ep, std::vector<float>& timestamps)> tweak_timestamps;
};

// A v2.1 dataset: one parquet per episode, jsonl metadata.
inline void write_v21_fixture(const fs::path& root, const FixtureOptions& o = {}) {
  fs::create_directories(root / "meta");
  fs::create_directories(root / "data/chunk-000");
  util::Json feats = util::Json::object();
  feats[o.state_key] = {{"dtype", "float32"}, {"shape", {3}}, {"names", o.state_names}};
  feats[o.action_key] = {{"dtype", "float32"}, {"shape", {2}}, {"names", util::Json::array({"x", "y"})}};
  if (!o.image_key.empty())
    feats[o.image_key] = {{"dtype", "image"}, {"shape", {6, 8, 3}}, {"names", util::Json::array({"height", "width", "channel"})}};
  if (!o.video_key.empty())
    feats[o.video_key] = {{"dtype", "video"},
                          {"shape", {64, 96, 3}},
                          {"names", util::Json::array({"height", "width", "channels"})},
                          {"info", {{"video.fps", o.fps}, {"video.codec", "av1"}, {"video.pix_fmt", "yuv420p"}}}};
  for (const char* k : {"timestamp"}) feats[k] = {{"dtype", "float32"}, {"shape", {1}}, {"names", nullptr}};
  for (const char* k : {"frame_index", "episode_index", "index", "task_index"})
    feats[k] = {{"dtype", "int64"}, {"shape", {1}}, {"names", nullptr}};
  int64_t total = 0;
  for (auto l : o.lengths) total += l;
  util::Json info = {{"codebase_version", "v2.1"},
                     {"robot_type", "fixture"},
                     {"total_episodes", o.lengths.size()},
                     {"total_frames", total},
                     {"total_tasks", 2},
                     {"total_videos", 0},
                     {"total_chunks", 1},
                     {"chunks_size", 1000},
                     {"fps", o.fps},
                     {"splits", {{"train", util::cat("0:", o.lengths.size())}}},
                     {"data_path", "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet"},
                     {"video_path", o.video_key.empty() ? util::Json() : util::Json("videos/chunk-{episode_chunk:03d}/{video_key}/episode_{episode_index:06d}.mp4")},
                     {"features", feats}};
  util::write_json_file(root / "meta/info.json", info);
  std::string episodes, tasks = "{\"task_index\": 0, \"task\": \"pick\"}\n{\"task_index\": 1, \"task\": \"place\"}\n", stats;
  int64_t offset = 0;
  for (size_t e = 0; e < o.lengths.size(); ++e) {
    const int64_t n = o.lengths[e];
    const int64_t task = static_cast<int64_t>(e % 2);
    episodes += util::cat("{\"episode_index\": ", e, ", \"tasks\": [\"", task ? "place" : "pick", "\"], \"length\": ", n, "}\n");
    std::vector<std::vector<float>> st, ac;
    std::vector<float> ts;
    std::vector<int64_t> fi, ei, gi, ti;
    pq::Column img;
    img.name = o.image_key + ".bytes";
    img.type = pq::ValueType::Binary;
    for (int64_t f = 0; f < n; ++f) {
      st.push_back({fx_state(e, f, 0), fx_state(e, f, 1), fx_state(e, f, 2)});
      ac.push_back({fx_action(e, f, 0), fx_action(e, f, 1)});
      ts.push_back(static_cast<float>(f) / o.fps);
      fi.push_back(f);
      ei.push_back(static_cast<int64_t>(e));
      gi.push_back(offset + f);
      ti.push_back(task);
      if (!o.image_key.empty()) {
        std::vector<uint8_t> rgb(6 * 8 * 3);
        for (size_t p = 0; p < rgb.size(); ++p) rgb[p] = static_cast<uint8_t>((p * 7 + e * 31 + f * 3) % 256);
        img.strings.push_back(dataset::encode_png(rgb.data(), 8, 6));
      }
    }
    if (o.tweak_timestamps) o.tweak_timestamps(static_cast<int64_t>(e), ts);
    pq::Table t;
    t.num_rows = n;
    t.columns = {float_list_col(o.state_key, st), float_list_col(o.action_key, ac)};
    if (!o.image_key.empty()) t.columns.push_back(img);
    t.columns.push_back(float_col("timestamp", ts));
    t.columns.push_back(int_col("frame_index", fi));
    t.columns.push_back(int_col("episode_index", ei));
    t.columns.push_back(int_col("index", gi));
    t.columns.push_back(int_col("task_index", ti));
    pq::write_table(root / util::cat("data/chunk-000/episode_", std::string(6 - std::to_string(e).size(), '0'), e, ".parquet"), t);
    if (!o.video_key.empty()) {
      auto vp = root / util::cat("videos/chunk-000/", o.video_key, "/episode_", std::string(6 - std::to_string(e).size(), '0'), e, ".mp4");
      fs::create_directories(vp.parent_path());
      dataset::video::EncoderOptions eo;
      eo.width = 96;
      eo.height = 64;
      eo.fps = o.fps;
      dataset::video::Encoder enc(vp, eo);
      for (int64_t f = 0; f < n; ++f) enc.add_frame(fx_frame(static_cast<int64_t>(e), f).data());
      enc.finish();
    }
    // Per-episode stats: only what aggregation and training need.
    util::Json s;
    s[o.state_key] = {{"min", {fx_state(e, 0, 0), fx_state(e, 0, 1), fx_state(e, 0, 2)}},
                      {"max", {fx_state(e, n - 1, 0), fx_state(e, n - 1, 1), fx_state(e, n - 1, 2)}},
                      {"mean", {1.0, 2.0, 3.0}},
                      {"std", {1.0, 1.0, 1.0}},
                      {"count", {n}}};
    s[o.action_key] = {{"min", {fx_action(e, n - 1, 0), fx_action(e, n - 1, 1)}},
                       {"max", {fx_action(e, 0, 0), fx_action(e, 0, 1)}},
                       {"mean", {-1.0, -2.0}},
                       {"std", {1.0, 1.0}},
                       {"count", {n}}};
    stats += util::cat("{\"episode_index\": ", e, ", \"stats\": ", s.dump(), "}\n");
    offset += n;
  }
  util::atomic_write_file(root / "meta/episodes.jsonl", episodes);
  if (o.tasks) util::atomic_write_file(root / "meta/tasks.jsonl", tasks);
  if (o.stats) util::atomic_write_file(root / "meta/episodes_stats.jsonl", stats);
}

}  // namespace robotrain::test
