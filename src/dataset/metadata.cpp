// load_metadata: meta/ of a LeRobot dataset, v3.0 (parquet episodes/tasks) and v2.x (jsonl),
// accepting the quirks of converted datasets; what is missing becomes a warning, and
// episodes whose files are missing are marked so the reader can skip them.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>

#include "dataset/episodes_table.h"
#include "dataset/info.h"
#include "dataset/lerobot_dataset.h"
#include "dataset/parquet/parquet.h"
#include "dataset/stats.h"
#include "dataset/untrusted.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

namespace robotrain::dataset {

namespace fs = std::filesystem;
using util::cat;

const Feature* DatasetMeta::feature(const std::string& key) const {
  for (const auto& f : features)
    if (f.key == key) return &f;
  return nullptr;
}

std::vector<std::string> DatasetMeta::video_keys() const {
  std::vector<std::string> out;
  for (const auto& f : features)
    if (f.is_video()) out.push_back(f.key);
  return out;
}

std::vector<std::string> DatasetMeta::camera_keys() const {
  std::vector<std::string> out;
  for (const auto& f : features)
    if (f.is_visual()) out.push_back(f.key);
  return out;
}

namespace {

constexpr int64_t kMaxIndex = 1ll << 53;  // indices travel through doubles: exact up to here

// Value of row `r` of a scalar column, or the first element of a one-element list column.
double row_num(const parquet::Column& c, int64_t r) {
  if (c.is_list && (r + 1 >= static_cast<int64_t>(c.offsets.size()) || c.offsets[r + 1] <= c.offsets[r]))
    throw util::InputError(util::cat("column '", c.name, "' row ", r, " is an empty list; a number is expected"));
  const int64_t i = c.is_list ? c.offsets.at(r) : r;
  if (c.is_null(i)) throw util::InputError(util::cat("column '", c.name, "' row ", r, " is null; a number is expected"));
  return numeric_value(c, i);
}

// An integer metadata cell: row_num checked to be an integer in [lo, hi].
int64_t row_int(const parquet::Column& c, int64_t r, int64_t lo, int64_t hi, const fs::path& file) {
  return checked_int(row_num(c, r), lo, hi, cat(file.string(), " column '", c.name, "' row ", r));
}

std::vector<std::string> row_strings(const parquet::Column& c, int64_t r, const fs::path& file) {
  if (c.type != parquet::ValueType::String && c.type != parquet::ValueType::Binary)
    throw util::InputError(cat(file.string(), ": column '", c.name, "' holds ", parquet::value_type_name(c.type),
                               ", a list of task strings is expected"));
  if (!c.is_list) return {c.strings.at(r)};
  std::vector<std::string> out;
  for (int64_t i = c.offsets.at(r); i < c.offsets.at(r + 1); ++i) out.push_back(c.strings.at(i));
  return out;
}

// Parquet files under `dir`, sorted; anything named *.parquet that is not a regular file
// (a FIFO would block the reader) is refused.
std::vector<fs::path> parquet_files_under(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.path().extension() != ".parquet" || e.is_directory()) continue;
    if (regular_file_exists(e.path())) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void load_tasks_v3(DatasetMeta& m) {
  fs::path p = m.root / "meta/tasks.parquet";
  if (!regular_file_exists(p)) {
    m.warnings.push_back("meta/tasks.parquet is missing; samples carry an empty task");
    return;
  }
  parquet::Reader r(p);
  std::string name_col;
  for (const char* cand : {"task", "__index_level_0__", "index", "tasks"})
    for (const auto& c : r.info().columns)
      if (name_col.empty() && c.name == cand && (c.type == parquet::ValueType::String || c.type == parquet::ValueType::Binary))
        name_col = c.name;
  if (name_col.empty())
    for (const auto& c : r.info().columns)
      if (name_col.empty() && c.type == parquet::ValueType::String) name_col = c.name;
  if (name_col.empty())
    throw util::InputError(cat(p.string(), ": no task string column (expected 'task' or '__index_level_0__')"));
  bool has_index = false;
  for (const auto& c : r.info().columns) has_index |= c.name == "task_index";
  if (!has_index) throw util::InputError(cat(p.string(), ": column 'task_index' is missing"));
  auto t = r.read({name_col, "task_index"});
  const auto& names = t.column(name_col);
  const auto& idx = t.column("task_index");
  std::vector<uint8_t> seen(static_cast<size_t>(t.num_rows), 0);
  m.tasks.assign(static_cast<size_t>(t.num_rows), std::string());
  for (int64_t i = 0; i < t.num_rows; ++i) {
    const int64_t ti = row_int(idx, i, -kMaxIndex, kMaxIndex, p);
    if (ti < 0 || ti >= t.num_rows)
      throw util::InputError(cat(p.string(), " row ", i, ": task_index ", ti, " is outside [0, ", t.num_rows,
                                 ") (the table holds ", t.num_rows, " tasks); fix or regenerate meta/tasks.parquet"));
    if (seen[ti]) throw util::InputError(cat(p.string(), " row ", i, ": task_index ", ti, " appears twice"));
    seen[ti] = 1;
    if (names.is_null(i)) throw util::InputError(cat(p.string(), " row ", i, ": the task string is null"));
    m.tasks[ti] = names.strings.at(i);
  }
}

void load_tasks_jsonl(DatasetMeta& m) {
  fs::path p = m.root / "meta/tasks.jsonl";
  if (!regular_file_exists(p)) {
    m.warnings.push_back("meta/tasks.jsonl is missing; samples carry an empty task");
    return;
  }
  const auto lines = read_jsonl(p);
  const auto rows = static_cast<int64_t>(lines.size());
  std::vector<uint8_t> seen(lines.size(), 0);
  m.tasks.assign(lines.size(), std::string());
  for (int64_t i = 0; i < rows; ++i) {
    const auto& j = lines[i];
    const std::string where = cat(p.string(), " line ", i + 1);
    auto ti = json_int_field(j, "task_index", -kMaxIndex, kMaxIndex, where);
    if (!ti || !j.contains("task") || !j["task"].is_string())
      throw util::InputError(cat(where, ": an object with an integer task_index and a string task is expected"));
    if (*ti < 0 || *ti >= rows)
      throw util::InputError(cat(where, ": task_index ", *ti, " is outside [0, ", rows, ") (the file lists ", rows,
                                 " tasks); fix meta/tasks.jsonl"));
    if (seen[*ti]) throw util::InputError(cat(where, ": task_index ", *ti, " appears twice"));
    seen[*ti] = 1;
    m.tasks[*ti] = j["task"].get<std::string>();
  }
}

std::string template_of(const DatasetMeta& m, const char* key, const char* def) {
  if (!m.info.contains(key) || m.info[key].is_null()) return def;
  if (!m.info[key].is_string())
    throw util::InputError(cat((m.root / "meta/info.json").string(), ": \"", key, "\" is a JSON ", m.info[key].type_name(),
                               ", a path template string is expected"));
  return m.info[key].get<std::string>();
}

// A data or video path from a template: expanded, then kept inside the dataset root.
fs::path expand(const DatasetMeta& m, const std::string& tmpl, const std::map<std::string, TemplateValue>& values,
                const std::string& what) {
  return path_inside(m.root, format_path_template(tmpl, values), what);
}

double row_seconds(const parquet::Column& c, int64_t r, const fs::path& file) {
  const double v = row_num(c, r);
  if (!std::isfinite(v) || v < 0 || v > 1e9)
    throw util::InputError(cat(file.string(), " column '", c.name, "' row ", r, " is ", v,
                               "; a video timestamp is a finite number of seconds >= 0"));
  return v;
}

void load_episodes_v3(DatasetMeta& m) {
  auto files = parquet_files_under(m.root / "meta/episodes");
  if (files.empty())
    throw util::RuntimeError(cat(m.root.string(), ": meta/episodes/*.parquet is missing; the dataset is incomplete (re-download meta/)"));
  const std::string data_tmpl = template_of(m, "data_path", "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet");
  const std::string video_tmpl = template_of(m, "video_path", "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4");
  auto vkeys = m.video_keys();
  for (const auto& file : files) {
    parquet::Reader r(file);
    std::set<std::string> have;
    for (const auto& c : r.info().columns) have.insert(c.name);
    std::vector<std::string> want = {"episode_index", "length", "tasks", "data/chunk_index", "data/file_index",
                                     "dataset_from_index", "dataset_to_index"};
    for (const auto& k : vkeys)
      for (const char* s : {"chunk_index", "file_index", "from_timestamp", "to_timestamp"}) want.push_back(cat("videos/", k, "/", s));
    std::vector<std::string> cols;
    for (const auto& w : want)
      if (have.count(w)) cols.push_back(w);
    for (const char* req : {"episode_index", "length"})
      if (!have.count(req)) throw util::InputError(cat(file.string(), ": column '", req, "' is missing"));
    auto t = r.read(cols);
    auto col = [&](const std::string& n) -> const parquet::Column* { return t.has(n) ? &t.column(n) : nullptr; };
    for (int64_t i = 0; i < t.num_rows; ++i) {
      Episode e;
      e.index = row_int(*col("episode_index"), i, 0, kMaxIndex, file);
      e.length = row_int(*col("length"), i, 0, kMaxIndex, file);
      if (auto c = col("tasks")) e.tasks = row_strings(*c, i, file);
      e.from_index = col("dataset_from_index") ? row_int(*col("dataset_from_index"), i, 0, kMaxIndex, file) : -1;
      e.to_index = col("dataset_to_index") ? row_int(*col("dataset_to_index"), i, 0, kMaxIndex, file) : -1;
      // The loader samples [from, to): a range that disagrees with the length would make it
      // read (and size its anchors by) frames that do not exist.
      if (e.from_index >= 0 && e.to_index >= 0 && e.to_index - e.from_index != e.length)
        throw util::InputError(cat(file.string(), " row ", i, ": episode ", e.index, " has dataset_to_index - dataset_from_index = ",
                                   e.to_index - e.from_index, " but length ", e.length, "; the episodes table is corrupt"));
      int64_t chunk = col("data/chunk_index") ? row_int(*col("data/chunk_index"), i, 0, kMaxIndex, file) : 0;
      int64_t fidx = col("data/file_index") ? row_int(*col("data/file_index"), i, 0, kMaxIndex, file) : 0;
      e.data_path = expand(m, data_tmpl, {{"chunk_index", chunk}, {"file_index", fidx}, {"episode_chunk", chunk}, {"episode_index", e.index}},
                           cat("data path of episode ", e.index));
      for (const auto& k : vkeys) {
        auto vc = col(cat("videos/", k, "/chunk_index"));
        auto vf = col(cat("videos/", k, "/file_index"));
        VideoSegment seg;
        int64_t vchunk = vc ? row_int(*vc, i, 0, kMaxIndex, file) : 0;
        int64_t vfile = vf ? row_int(*vf, i, 0, kMaxIndex, file) : 0;
        seg.path = expand(m, video_tmpl, {{"video_key", k}, {"chunk_index", vchunk}, {"file_index", vfile},
                                          {"episode_chunk", vchunk}, {"episode_index", e.index}},
                          cat("video path of episode ", e.index, " camera ", k));
        if (auto c = col(cat("videos/", k, "/from_timestamp"))) seg.from_timestamp = row_seconds(*c, i, file);
        if (auto c = col(cat("videos/", k, "/to_timestamp"))) seg.to_timestamp = row_seconds(*c, i, file);
        else seg.to_timestamp = seg.from_timestamp + static_cast<double>(e.length) / std::max(1, m.fps);
        if (seg.to_timestamp < seg.from_timestamp)
          throw util::InputError(cat(file.string(), " row ", i, ": camera ", k, " segment ends (", seg.to_timestamp,
                                     " s) before it starts (", seg.from_timestamp, " s)"));
        e.videos[k] = seg;
      }
      m.episodes.push_back(std::move(e));
    }
  }
}

// v2.x: one data file and one video per episode; episodes.jsonl holds index/tasks/length.
void load_episodes_v2(DatasetMeta& m) {
  const fs::path info_path = m.root / "meta/info.json";
  const int64_t chunks_size = json_int_field(m.info, "chunks_size", 1, 1000000000, info_path.string()).value_or(1000);
  const std::string data_tmpl = template_of(m, "data_path", "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet");
  const std::string video_tmpl =
      template_of(m, "video_path", "videos/chunk-{episode_chunk:03d}/{video_key}/episode_{episode_index:06d}.mp4");
  fs::path p = m.root / "meta/episodes.jsonl";
  if (regular_file_exists(p)) {
    int64_t line = 0;
    for (const auto& j : read_jsonl(p)) {
      ++line;
      const std::string where = cat(p.string(), " line ", line);
      Episode e;
      e.index = json_int_field(j, "episode_index", 0, kMaxIndex, where).value_or(-1);
      e.length = json_int_field(j, "length", 0, kMaxIndex, where).value_or(-1);
      if (e.index < 0 || e.length < 0) throw util::InputError(cat(where, ": episode_index or length is missing"));
      if (j.contains("tasks") && j["tasks"].is_array())
        for (const auto& t : j["tasks"]) e.tasks.push_back(t.is_string() ? t.get<std::string>() : t.dump());
      m.episodes.push_back(std::move(e));
    }
  } else {
    // Reconstruct from the data files themselves.
    m.warnings.push_back("meta/episodes.jsonl is missing; episodes reconstructed from data/");
    for (const auto& f : parquet_files_under(m.root / "data")) {
      auto t = parquet::read_table(f, {"episode_index"});
      const auto& c = t.column("episode_index");
      for (int64_t i = 0; i < t.num_rows; ++i) {
        auto ep = row_int(c, i, 0, kMaxIndex, f);
        if (m.episodes.empty() || m.episodes.back().index != ep) {
          Episode e;
          e.index = ep;
          m.episodes.push_back(e);
        }
        m.episodes.back().length++;
      }
    }
  }
  std::sort(m.episodes.begin(), m.episodes.end(), [](const Episode& a, const Episode& b) { return a.index < b.index; });
  int64_t offset = 0;
  for (auto& e : m.episodes) {
    e.from_index = offset;
    if (__builtin_add_overflow(offset, e.length, &e.to_index) || e.to_index > kMaxIndex)
      throw util::InputError(cat(p.string(), ": episode lengths add up to more than ", kMaxIndex, " frames"));
    offset = e.to_index;
    const int64_t chunk = e.index / chunks_size;
    e.data_path = expand(m, data_tmpl, {{"episode_chunk", chunk}, {"episode_index", e.index}, {"chunk_index", chunk}, {"file_index", e.index}},
                         cat("data path of episode ", e.index));
    for (const auto& k : m.video_keys()) {
      VideoSegment seg;
      seg.path = expand(m, video_tmpl, {{"episode_chunk", chunk}, {"episode_index", e.index}, {"video_key", k},
                                        {"chunk_index", chunk}, {"file_index", e.index}},
                        cat("video path of episode ", e.index, " camera ", k));
      seg.from_timestamp = 0;
      seg.to_timestamp = static_cast<double>(e.length) / std::max(1, m.fps);
      e.videos[k] = seg;
    }
  }
}

void load_stats(DatasetMeta& m, bool v2) {
  fs::path p = m.root / "meta/stats.json";
  if (regular_file_exists(p)) {
    m.stats = stats_from_json(read_meta_json(p), p.string());
    return;
  }
  fs::path ep = m.root / "meta/episodes_stats.jsonl";
  if (v2 && regular_file_exists(ep)) {
    std::vector<DatasetStats> parts;
    int64_t line = 0;
    for (const auto& j : read_jsonl(ep)) {
      ++line;
      if (j.contains("stats")) parts.push_back(stats_from_json(j["stats"], cat(ep.string(), " line ", line)));
    }
    m.stats = aggregate_stats(parts);
    return;
  }
  m.warnings.push_back(v2 ? "meta/stats.json and meta/episodes_stats.jsonl are missing; no normalization stats"
                          : "meta/stats.json is missing; no normalization stats");
}

// Normalization stats of a feature must have one value per feature value (cameras: one per
// channel), or training fails in the middle of its first step.
void check_stats_sizes(const DatasetMeta& m) {
  for (const auto& f : m.features) {
    auto it = m.stats.find(f.key);
    if (it == m.stats.end() || f.dtype == "string" || f.dtype == "language") continue;
    int64_t want = 1;
    if (f.is_visual()) want = camera_chw(f)[0];
    else
      for (auto d : f.shape) want *= d;
    for (const auto& [name, values] : it->second.values) {
      if (name == "count") continue;
      if (static_cast<int64_t>(values.size()) != want)
        throw util::InputError(cat("meta/stats.json: '", shown(f.key), "' ", shown(name), " holds ", values.size(),
                                   " value(s) but the feature has ", want, f.is_visual() ? " channel(s)" : " value(s) per frame",
                                   "; recompute the stats or fix meta/info.json"));
    }
  }
}

// Every count and size from the metadata, checked against what the files hold before
// anything is sized from them: a data file must hold the rows its episodes claim (its footer's
// row count), and a frame count never overflows.
void check_files(DatasetMeta& m) {
  std::map<fs::path, bool> seen;
  auto exists = [&](const fs::path& p) {
    auto it = seen.find(p);
    if (it != seen.end()) return it->second;
    return seen[p] = regular_file_exists(p);
  };
  std::map<fs::path, int64_t> claimed;  // data file -> frames its episodes claim
  for (auto& e : m.episodes) {
    e.data_exists = exists(e.data_path);
    if (!e.data_exists) {
      if (e.length > kMaxEpisodeLength)
        throw util::InputError(cat("episode ", e.index, ": length ", e.length, " is more than ", kMaxEpisodeLength,
                                   " frames; the episodes metadata is corrupt"));
      m.warnings.push_back(cat("episode ", e.index, ": data file ", fs::relative(e.data_path, m.root).string(), " is missing"));
    } else {
      claimed[e.data_path] += e.length;  // each length <= 2^53: no overflow below 1024 of them per file
    }
    for (auto& [k, seg] : e.videos) {
      seg.exists = exists(seg.path);
      if (!seg.exists)
        m.warnings.push_back(cat("episode ", e.index, ": video ", fs::relative(seg.path, m.root).string(), " is missing"));
    }
  }
  for (const auto& [path, frames] : claimed) {
    const int64_t rows = parquet::Reader(path).info().num_rows;
    if (frames > rows || frames < 0)
      throw util::InputError(cat("the episodes stored in ", fs::relative(path, m.root).string(), " claim ", frames,
                                 " frames but the file holds ", rows, " rows; the episodes metadata is corrupt (run `robotrain dataset validate`)"));
  }
}

}  // namespace

DatasetMeta load_metadata(const fs::path& root_in) {
  if (!fs::exists(root_in))
    throw util::InputError(cat(root_in.string(), ": no such directory; pass the root of a LeRobot dataset (the folder holding meta/)"));
  fs::path root = fs::absolute(root_in).lexically_normal();
  const fs::path info_path = root / "meta/info.json";
  const std::string info_file = info_path.string();
  if (!regular_file_exists(info_path))
    throw util::InputError(cat(root.string(), ": not a LeRobot dataset (meta/info.json is missing); pass the folder holding meta/"));
  DatasetMeta m;
  m.root = root;
  m.info = read_meta_json(info_path);
  if (!m.info.is_object())
    throw util::InputError(cat(info_file, ": a JSON ", m.info.type_name(), ", an object is expected"));
  if (m.info.contains("codebase_version") && !m.info["codebase_version"].is_string())
    throw util::InputError(cat(info_file, ": \"codebase_version\" is a JSON ", m.info["codebase_version"].type_name(),
                               ", a string such as \"v3.0\" is expected"));
  m.codebase_version = m.info.value("codebase_version", std::string());
  if (m.codebase_version.empty()) {
    m.warnings.push_back("meta/info.json has no codebase_version; assuming v3.0");
    m.codebase_version = "v3.0";
  }
  const bool v2 = util::starts_with(m.codebase_version, "v2");
  if (!v2 && !util::starts_with(m.codebase_version, "v3"))
    throw util::InputError(cat(root.string(), ": codebase_version ", shown(m.codebase_version),
                               " is not supported (v2.0, v2.1 and v3.0 are); convert it with LeRobot first"));
  if (m.info.contains("robot_type") && m.info["robot_type"].is_string()) m.robot_type = m.info["robot_type"];
  if (!m.info.contains("fps")) throw util::InputError(cat(info_file, ": \"fps\" is missing"));
  const auto& fps_json = m.info["fps"];
  if (!fps_json.is_number())
    throw util::InputError(cat(info_file, ": \"fps\" is a JSON ", fps_json.type_name(), " (", shown(fps_json.dump()),
                               "), a number is expected"));
  const double fps = fps_json.get<double>();
  if (!std::isfinite(fps) || fps < 0.5 || fps > 10000)
    throw util::InputError(cat(info_file, ": \"fps\" is ", fps, "; frames per second must be between 1 and 10000"));
  m.fps = static_cast<int>(std::lround(fps));
  // Counts info.json declares: integers in range, compared with what the files hold below.
  for (const char* key : {"total_episodes", "total_frames", "total_tasks", "total_videos", "total_chunks"})
    json_int_field(m.info, key, 0, kMaxIndex, info_file);
  json_int_field(m.info, "chunks_size", 1, 1000000000, info_file);
  for (const char* key : {"data_files_size_in_mb", "video_files_size_in_mb"})  // 0: a file per episode
    json_int_field(m.info, key, 0, 1000000000, info_file);
  m.features = parse_features(m.info.contains("features") ? m.info["features"] : util::Json(), m.warnings);
  if (v2) {
    load_tasks_jsonl(m);
    load_episodes_v2(m);
  } else {
    load_tasks_v3(m);
    load_episodes_v3(m);
  }
  std::sort(m.episodes.begin(), m.episodes.end(), [](const Episode& a, const Episode& b) { return a.index < b.index; });
  // Converted datasets sometimes lack dataset_from/to_index: derive them from lengths.
  int64_t offset = 0;
  for (auto& e : m.episodes) {
    if (e.from_index < 0 || e.to_index < 0) {
      e.from_index = offset;
      e.to_index = offset + e.length;
    }
    offset = e.to_index;
    if (offset > kMaxIndex) throw util::InputError(cat(root.string(), ": episode ranges reach past ", kMaxIndex, " frames"));
  }
  load_stats(m, v2);
  check_stats_sizes(m);
  m.total_episodes = static_cast<int64_t>(m.episodes.size());
  m.total_frames = 0;
  for (const auto& e : m.episodes)
    if (__builtin_add_overflow(m.total_frames, e.length, &m.total_frames) || m.total_frames > kMaxIndex)
      throw util::InputError(cat(root.string(), ": episode lengths add up to more than ", kMaxIndex, " frames"));
  const int64_t declared_episodes = json_int_field(m.info, "total_episodes", 0, kMaxIndex, info_file).value_or(m.total_episodes);
  const int64_t declared_frames = json_int_field(m.info, "total_frames", 0, kMaxIndex, info_file).value_or(m.total_frames);
  if (declared_episodes != m.total_episodes)
    m.warnings.push_back(cat("info.json total_episodes=", declared_episodes, " but ", m.total_episodes, " episodes are listed"));
  if (declared_frames != m.total_frames)
    m.warnings.push_back(cat("info.json total_frames=", declared_frames, " but episodes hold ", m.total_frames, " frames"));
  check_files(m);
  return m;
}

}  // namespace robotrain::dataset
