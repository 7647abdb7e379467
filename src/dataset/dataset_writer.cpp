#include "dataset/dataset_writer.h"

#include <algorithm>
#include <cmath>

#include "dataset/episodes_table.h"
#include "dataset/staging.h"
#include "dataset/tasks_table.h"
#include "dataset/info.h"
#include "dataset/parquet/parquet.h"
#include "dataset/stats.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/strings.h"

namespace robotrain::dataset {

namespace fs = std::filesystem;
using util::cat;

std::string codec_name_for_encoder(const std::string& encoder) {
  if (encoder == "libsvtav1" || encoder == "libaom-av1" || encoder == "librav1e" || encoder == "av1") return "av1";
  if (encoder == "libx264" || encoder == "h264") return "h264";
  if (encoder == "libx265" || encoder == "hevc") return "hevc";
  if (encoder == "mpeg4") return "mpeg4";
  return encoder;
}

namespace {

const std::string kDataTemplate = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet";
const std::string kVideoTemplate = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4";
const std::string kEpisodesTemplate = "meta/episodes/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet";

// One column of the data parquet being accumulated.
struct DataColumn {
  std::string key;
  parquet::ValueType type = parquet::ValueType::Float;
  int64_t width = 1;  // values per row
  bool is_list = false;
  parquet::Column col;

  void reset() {
    col = parquet::Column();
    col.name = key;
    col.type = type;
    col.is_list = is_list;
    if (is_list) col.offsets = {0};
  }
  int64_t rows() const { return is_list ? static_cast<int64_t>(col.offsets.size()) - 1 : col.num_values(); }
  double value(int64_t i) const {
    return type == parquet::ValueType::Float ? col.floats[i] : type == parquet::ValueType::Double ? col.doubles[i] : col.ints[i];
  }
  void push(double v) {
    if (type == parquet::ValueType::Float) col.floats.push_back(static_cast<float>(v));
    else if (type == parquet::ValueType::Double) col.doubles.push_back(v);
    else col.ints.push_back(static_cast<int64_t>(v));
  }
  void end_row() {
    if (is_list) col.offsets.push_back(col.num_values());
  }
};

struct Camera {
  std::string key;
  int height = 0, width = 0;
  std::unique_ptr<video::Encoder> encoder;
  std::filesystem::path path;  // the file the encoder writes
  int64_t chunk = 0, file = 0, frames_in_file = 0;
  // Downsampled CHW frames of the current episode, for LeRobot-style camera stats.
  std::vector<uint8_t> small;
  int small_h = 0, small_w = 0, factor = 1;
};

using EpisodeRow = EpisodeRecord;

double array_value(const Array& a, int64_t i) {
  switch (a.dtype) {
    case DType::Float32: return a.data<float>()[i];
    case DType::Int64: return static_cast<double>(a.data<int64_t>()[i]);
    default: return a.data<uint8_t>()[i];
  }
}

// Camera input (any of the accepted layouts) to HWC uint8.
std::vector<uint8_t> to_hwc_u8(const Array& a, int h, int w, const std::string& key) {
  const auto& s = a.shape;
  bool hwc = s.size() == 3 && s[0] == h && s[1] == w && s[2] == 3;
  bool chw = s.size() == 3 && s[0] == 3 && s[1] == h && s[2] == w;
  if (!hwc && !chw || (a.dtype != DType::UInt8 && a.dtype != DType::Float32))
    throw util::InputError(cat("camera '", key, "' expects uint8 or float32 [", h, ",", w, ",3] or [3,", h, ",", w, "]"));
  std::vector<uint8_t> out(static_cast<size_t>(h) * w * 3);
  const int64_t plane = static_cast<int64_t>(h) * w;
  for (int64_t p = 0; p < plane; ++p)
    for (int c = 0; c < 3; ++c) {
      int64_t src = hwc ? p * 3 + c : c * plane + p;
      double v = a.dtype == DType::UInt8 ? a.data<uint8_t>()[src] : std::clamp(a.data<float>()[src] * 255.0f + 0.5f, 0.0f, 255.0f);
      out[p * 3 + c] = static_cast<uint8_t>(v);
    }
  return out;
}

}  // namespace

struct DatasetWriter::Impl {
  WriterOptions o;
  std::unique_ptr<util::StagedDir> staged;
  fs::path dir;
  std::vector<Feature> features;  // full list written to info.json
  std::vector<DataColumn> columns;
  std::vector<Camera> cameras;
  std::vector<std::string> tasks;
  std::vector<EpisodeRow> episodes;
  int64_t total_frames = 0;
  int64_t data_chunk = 0, data_file = 0, file_rows = 0, row_bytes = 0;
  bool in_episode = false, finished = false;
  int64_t ep_rows = 0;  // rows of the open episode
  std::vector<std::string> ep_tasks;

  DataColumn* column(const std::string& key) {
    for (auto& c : columns)
      if (c.key == key) return &c;
    return nullptr;
  }

  fs::path data_path() const {
    return dir / format_path_template(kDataTemplate, {{"chunk_index", data_chunk}, {"file_index", data_file}});
  }

  void flush_data() {
    if (file_rows == 0) return;
    parquet::Table t;
    t.num_rows = file_rows;
    for (auto& c : columns) t.columns.push_back(c.col);
    fs::create_directories(data_path().parent_path());
    parquet::write_table(data_path(), t);
    for (auto& c : columns) c.reset();
    file_rows = 0;
  }

  void next_index(int64_t& chunk, int64_t& file) const {
    if (file == o.chunks_size - 1) {
      file = 0;
      ++chunk;
    } else {
      ++file;
    }
  }

  Camera& open_camera(Camera& cam) {
    if (!cam.encoder) {
      fs::path p = dir / format_path_template(kVideoTemplate, {{"video_key", cam.key}, {"chunk_index", cam.chunk}, {"file_index", cam.file}});
      fs::create_directories(p.parent_path());
      video::EncoderOptions eo = o.video;
      eo.width = cam.width;
      eo.height = cam.height;
      eo.fps = o.fps;
      cam.encoder = std::make_unique<video::Encoder>(p, eo);
      cam.path = p;
      cam.frames_in_file = 0;
    }
    return cam;
  }

  void add_stats_frame(Camera& cam, const std::vector<uint8_t>& hwc) {
    const int f = cam.factor;
    const int64_t plane = static_cast<int64_t>(cam.small_h) * cam.small_w;
    size_t base = cam.small.size();
    cam.small.resize(base + plane * 3);
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < cam.small_h; ++y)
        for (int x = 0; x < cam.small_w; ++x)
          cam.small[base + c * plane + y * cam.small_w + x] = hwc[((static_cast<int64_t>(y) * f) * cam.width + x * f) * 3 + c];
  }

  DatasetStats episode_stats(int64_t rows) {
    DatasetStats s;
    for (const auto& f : features) {
      if (f.is_visual()) {
        for (auto& cam : cameras) {
          if (cam.key != f.key) continue;
          const int64_t plane = static_cast<int64_t>(cam.small_h) * cam.small_w;
          std::vector<uint8_t> picked;
          auto idx = sample_indices(rows);
          for (int64_t i : idx) picked.insert(picked.end(), cam.small.begin() + i * plane * 3, cam.small.begin() + (i + 1) * plane * 3);
          s[f.key] = compute_image_stats(picked, static_cast<int64_t>(idx.size()), 3, plane);
          cam.small.clear();
        }
        continue;
      }
      DataColumn* c = column(f.key);
      if (!c) continue;
      std::vector<double> v;
      const int64_t first = c->rows() - rows;
      const int64_t b = c->is_list ? c->col.offsets[first] : first;
      for (int64_t i = b; i < c->col.num_values(); ++i) v.push_back(c->value(i));
      s[f.key] = compute_vector_stats(v, rows, c->width);
    }
    return s;
  }

  parquet::Table episodes_table() const {
    std::vector<std::string> video_keys;
    for (const auto& cam : cameras) video_keys.push_back(cam.key);
    // Camera stats keep their (3,1,1) shape as nested lists (see episodes_write_options).
    std::vector<std::pair<std::string, std::string>> stat_columns;
    for (const auto& f : features)
      for (const char* stat : kEpisodeStatNames) stat_columns.emplace_back(f.key, stat);
    return dataset::episodes_table(episodes, video_keys, stat_columns);
  }

  // Nested list shapes for stats columns whose stat shape has more than one dimension.
  parquet::WriteOptions episodes_write_options() const {
    parquet::WriteOptions w;
    if (episodes.empty()) return w;
    for (const auto& [key, fs] : episodes.front().stats)
      for (const auto& [stat, shape] : fs.shapes)
        if (shape.size() > 1) w.list_shapes[cat("stats/", key, "/", stat)] = shape;
    return w;
  }

  util::Json info_json() const {
    util::Json j;
    j["codebase_version"] = "v3.0";
    j["robot_type"] = o.robot_type.empty() ? util::Json() : util::Json(o.robot_type);
    j["total_episodes"] = static_cast<int64_t>(episodes.size());
    j["total_frames"] = total_frames;
    j["total_tasks"] = static_cast<int64_t>(tasks.size());
    j["chunks_size"] = o.chunks_size;
    j["data_files_size_in_mb"] = o.data_files_size_in_mb;
    j["video_files_size_in_mb"] = o.video_files_size_in_mb;
    j["fps"] = o.fps;
    j["splits"] = {{"train", cat("0:", episodes.size())}};
    j["data_path"] = kDataTemplate;
    j["video_path"] = cameras.empty() ? util::Json() : util::Json(kVideoTemplate);
    util::Json feats = util::Json::object();
    for (const auto& f : features) feats[f.key] = feature_to_json(f);
    j["features"] = feats;
    return j;
  }
};

DatasetWriter::DatasetWriter(const fs::path& root, WriterOptions options) : impl_(std::make_unique<Impl>()) {
  auto& im = *impl_;
  im.o = std::move(options);
  if (im.o.fps <= 0) throw util::InputError(cat("fps must be positive (got ", im.o.fps, ")"));
  if (fs::exists(root) && !im.o.overwrite)
    throw util::InputError(cat(root.string(), " already exists; choose a new output directory or remove it"));
  for (auto f : im.o.features) {
    if (is_default_feature(f.key)) throw util::InputError(cat("feature '", f.key, "' is a default column; do not declare it"));
    if (f.dtype == "image") throw util::InputError(cat("feature '", f.key, "': the writer stores cameras as video; use dtype \"video\""));
    if (f.is_video()) {
      if (f.shape.size() != 3 || f.shape[2] != 3) throw util::InputError(cat("camera '", f.key, "' needs shape [H, W, 3]"));
      if (f.names.is_null()) f.names = util::Json::array({"height", "width", "channels"});
      Camera cam;
      cam.key = f.key;
      cam.height = static_cast<int>(f.shape[0]);
      cam.width = static_cast<int>(f.shape[1]);
      cam.factor = downsample_factor(cam.height, cam.width);
      cam.small_h = (cam.height + cam.factor - 1) / cam.factor;
      cam.small_w = (cam.width + cam.factor - 1) / cam.factor;
      f.info = {{"video.height", cam.height}, {"video.width", cam.width},
                {"video.codec", codec_name_for_encoder(im.o.video.codec)}, {"video.pix_fmt", im.o.video.pix_fmt},
                {"video.is_depth_map", false}, {"video.fps", im.o.fps}, {"video.channels", 3}, {"has_audio", false}};
      im.cameras.push_back(std::move(cam));
    } else {
      DataColumn c;
      c.key = f.key;
      if (f.dtype == "float32") c.type = parquet::ValueType::Float;
      else if (f.dtype == "float64") c.type = parquet::ValueType::Double;
      else if (f.dtype == "int64" || f.dtype == "int32") c.type = parquet::ValueType::Int64;
      else if (f.dtype == "bool") c.type = parquet::ValueType::Bool;
      else throw util::InputError(cat("feature '", f.key, "': dtype ", f.dtype, " is not supported by the writer"));
      c.width = 1;
      for (auto d : f.shape) c.width *= d;
      if (f.shape.size() > 1) throw util::InputError(cat("feature '", f.key, "': only 1-D features can be written"));
      c.is_list = !(f.shape.size() == 1 && f.shape[0] == 1);
      c.reset();
      im.row_bytes += c.width * 4;
      im.columns.push_back(std::move(c));
    }
    im.features.push_back(std::move(f));
  }
  auto add_default = [&](const char* key, const char* dtype, parquet::ValueType type) {
    Feature f;
    f.key = key;
    f.dtype = dtype;
    f.shape = {1};
    im.features.push_back(f);
    DataColumn c;
    c.key = key;
    c.type = type;
    c.reset();
    im.row_bytes += 8;
    im.columns.push_back(std::move(c));
  };
  add_default("timestamp", "float32", parquet::ValueType::Float);
  add_default("frame_index", "int64", parquet::ValueType::Int64);
  add_default("episode_index", "int64", parquet::ValueType::Int64);
  add_default("index", "int64", parquet::ValueType::Int64);
  add_default("task_index", "int64", parquet::ValueType::Int64);
  if (fs::exists(root) && im.o.overwrite) {
    // StagedDir::commit(replace_existing) swaps it out at the end.
  }
  if (root.has_parent_path()) fs::create_directories(fs::absolute(root).parent_path());
  remove_stale_staging(fs::absolute(root));
  im.staged = std::make_unique<util::StagedDir>(fs::absolute(root));
  im.dir = im.staged->path();
  fs::create_directories(im.dir / "meta");
}

DatasetWriter::~DatasetWriter() = default;

void DatasetWriter::begin_episode() {
  auto& im = *impl_;
  if (im.finished) throw util::RuntimeError("dataset writer: begin_episode after finish");
  if (im.in_episode) throw util::RuntimeError("dataset writer: begin_episode while an episode is open");
  im.in_episode = true;
  im.ep_rows = 0;
  im.ep_tasks.clear();
}

void DatasetWriter::add_frame(const std::map<std::string, Array>& frame, const std::string& task, std::optional<double> timestamp) {
  auto& im = *impl_;
  if (!im.in_episode) throw util::RuntimeError("dataset writer: add_frame outside begin_episode/end_episode");
  for (const auto& [k, a] : frame)
    if (!std::any_of(im.features.begin(), im.features.end(), [&, &k = k](const Feature& f) { return f.key == k; }) || is_default_feature(k))
      throw util::InputError(cat("frame has key '", k, "', which is not a declared feature"));
  // Validate everything before appending anything, so a bad frame leaves no partial row.
  for (const auto& c : im.columns) {
    if (is_default_feature(c.key)) continue;
    auto it = frame.find(c.key);
    if (it == frame.end()) throw util::InputError(cat("frame is missing feature '", c.key, "'"));
    if (it->second.numel() != c.width)
      throw util::InputError(cat("feature '", c.key, "' expects ", c.width, " values, got ", it->second.numel()));
  }
  std::vector<std::vector<uint8_t>> images;
  for (const auto& cam : im.cameras) {
    auto it = frame.find(cam.key);
    if (it == frame.end()) throw util::InputError(cat("frame is missing camera '", cam.key, "'"));
    images.push_back(to_hwc_u8(it->second, cam.height, cam.width, cam.key));
  }
  auto pos = std::find(im.tasks.begin(), im.tasks.end(), task);
  int64_t task_index = pos - im.tasks.begin();
  if (pos == im.tasks.end()) im.tasks.push_back(task);
  if (std::find(im.ep_tasks.begin(), im.ep_tasks.end(), task) == im.ep_tasks.end()) im.ep_tasks.push_back(task);
  const int64_t ep = static_cast<int64_t>(im.episodes.size());
  for (auto& c : im.columns) {
    if (c.key == "timestamp") c.push(timestamp ? *timestamp : static_cast<double>(im.ep_rows) / im.o.fps);
    else if (c.key == "frame_index") c.push(static_cast<double>(im.ep_rows));
    else if (c.key == "episode_index") c.push(static_cast<double>(ep));
    else if (c.key == "index") c.push(static_cast<double>(im.total_frames + im.ep_rows));
    else if (c.key == "task_index") c.push(static_cast<double>(task_index));
    else {
      const Array& a = frame.at(c.key);
      for (int64_t i = 0; i < c.width; ++i) c.push(array_value(a, i));
    }
    c.end_row();
  }
  for (size_t i = 0; i < im.cameras.size(); ++i) {
    Camera& cam = im.open_camera(im.cameras[i]);
    cam.encoder->add_frame(images[i].data());
    im.add_stats_frame(cam, images[i]);
  }
  ++im.ep_rows;
  ++im.file_rows;
}

int64_t DatasetWriter::end_episode() {
  auto& im = *impl_;
  if (!im.in_episode) throw util::RuntimeError("dataset writer: end_episode without begin_episode");
  if (im.ep_rows == 0) throw util::RuntimeError("dataset writer: an episode needs at least one frame");
  EpisodeRow row;
  row.index = static_cast<int64_t>(im.episodes.size());
  row.length = im.ep_rows;
  row.tasks = im.ep_tasks;
  row.data_chunk = im.data_chunk;
  row.data_file = im.data_file;
  row.from = im.total_frames;
  row.to = im.total_frames + im.ep_rows;
  for (auto& cam : im.cameras) {
    EpisodeRow::VideoSpan seg;
    seg.chunk = cam.chunk;
    seg.file = cam.file;
    seg.from = static_cast<double>(cam.frames_in_file) / im.o.fps;
    cam.frames_in_file += im.ep_rows;
    seg.to = static_cast<double>(cam.frames_in_file) / im.o.fps;
    row.videos[cam.key] = seg;
  }
  row.stats = im.episode_stats(im.ep_rows);
  im.total_frames += im.ep_rows;
  im.episodes.push_back(std::move(row));
  im.in_episode = false;
  // Roll data files over at the size limit, as LeRobot does (estimated from raw row size).
  if (im.file_rows * im.row_bytes >= im.o.data_files_size_in_mb * 1024 * 1024) {
    im.flush_data();
    im.next_index(im.data_chunk, im.data_file);
  }
  // Video files too, between episodes, once the encoded file reaches video_files_size_in_mb
  // (the next episode opens file-NNN+1 and starts at timestamp 0 there). The encoder may still
  // hold a few frames, so the size is a slight underestimate, as with LeRobot's own check.
  for (auto& cam : im.cameras) {
    std::error_code ec;
    uintmax_t bytes = cam.encoder ? fs::file_size(cam.path, ec) : 0;
    if (ec) bytes = 0;  // the muxer has not created the file yet
    if (cam.encoder && bytes >= static_cast<uintmax_t>(im.o.video_files_size_in_mb) * 1024 * 1024) {
      cam.encoder->finish();
      cam.encoder.reset();
      im.next_index(cam.chunk, cam.file);
    }
  }
  return im.episodes.back().index;
}

DatasetMeta DatasetWriter::finish() {
  auto& im = *impl_;
  if (im.finished) throw util::RuntimeError("dataset writer: finish called twice");
  if (im.in_episode) throw util::RuntimeError("dataset writer: finish while an episode is open; call end_episode first");
  if (im.episodes.empty()) throw util::RuntimeError("dataset writer: no episodes were written");
  im.flush_data();
  for (auto& cam : im.cameras)
    if (cam.encoder) cam.encoder->finish();
  fs::create_directories(im.dir / "meta/episodes/chunk-000");
  parquet::write_table(im.dir / format_path_template(kEpisodesTemplate, {{"chunk_index", int64_t{0}}, {"file_index", int64_t{0}}}),
                       im.episodes_table(), im.episodes_write_options());
  write_tasks_parquet(im.dir / "meta/tasks.parquet", im.tasks);
  std::vector<DatasetStats> parts;
  for (const auto& e : im.episodes) parts.push_back(e.stats);
  util::write_json_file(im.dir / "meta/stats.json", stats_to_json(aggregate_stats(parts)));
  util::write_json_file(im.dir / "meta/info.json", im.info_json());
  im.finished = true;
  fs::path final_path = im.staged->final_path();
  im.staged->commit(im.o.overwrite);
  return load_metadata(final_path);
}

int64_t DatasetWriter::episodes_written() const { return static_cast<int64_t>(impl_->episodes.size()); }
int64_t DatasetWriter::frames_written() const { return impl_->total_frames; }

}  // namespace robotrain::dataset
