#pragma once
// Writes a LeRobot v3.0 dataset the way LeRobot's recorder does: data parquet with many
// episodes per file, meta/episodes parquet (one row per episode, with per-episode stats),
// meta/tasks.parquet, meta/stats.json, meta/info.json, and one concatenated mp4 per camera
// with per-episode from/to_timestamp. Everything is staged and moved into place by finish().
//
//   DatasetWriter w(dir, {.fps = 30, .features = {state, action, camera}});
//   w.begin_episode();
//   w.add_frame({{"observation.state", s}, {"action", a}, {"observation.images.cam0", rgb}}, "task");
//   w.end_episode();
//   w.finish();
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dataset/array.h"
#include "dataset/lerobot_dataset.h"
#include "dataset/video/video.h"

namespace robotrain::dataset {

struct WriterOptions {
  int fps = 30;
  std::string robot_type;
  // User features in order; the default columns (timestamp, frame_index, episode_index,
  // index, task_index) are appended. Cameras: dtype "video", shape [H, W, 3],
  // names ["height", "width", "channels"] (filled in when null).
  std::vector<Feature> features;
  video::EncoderOptions video;  // codec, crf, gop, preset, pix_fmt; size and fps come from the feature
  int64_t chunks_size = 1000;
  int64_t data_files_size_in_mb = 100;
  int64_t video_files_size_in_mb = 200;
  bool overwrite = false;  // replace an existing directory at `root`
};

class DatasetWriter {
 public:
  // InputError when `root` exists (and !overwrite) or a feature is malformed.
  DatasetWriter(const std::filesystem::path& root, WriterOptions options);
  ~DatasetWriter();  // without finish(): nothing appears at `root`
  DatasetWriter(const DatasetWriter&) = delete;
  DatasetWriter& operator=(const DatasetWriter&) = delete;

  void begin_episode();
  // Every user feature must be present. Vectors: Float32/Int64/Bool arrays of the feature's
  // element count. Cameras: UInt8 [H,W,3] or [3,H,W], or Float32 in [0,1] in either layout.
  // `timestamp` defaults to frame_index / fps.
  void add_frame(const std::map<std::string, Array>& frame, const std::string& task,
                 std::optional<double> timestamp = std::nullopt);
  // Returns the episode index. An episode needs at least one frame.
  int64_t end_episode();
  // Writes the metadata, commits the directory and returns its metadata.
  DatasetMeta finish();

  int64_t episodes_written() const;
  int64_t frames_written() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "libsvtav1" -> "av1", "libx264" -> "h264", ... (the name ffprobe and info.json use).
std::string codec_name_for_encoder(const std::string& encoder);

}  // namespace robotrain::dataset
