// load_metadata: meta/ of a LeRobot dataset, v3.0 (parquet episodes/tasks) and v2.x (jsonl),
// accepting the quirks of converted datasets; what is missing becomes a warning, and
// episodes whose files are missing are marked so the reader can skip them.
#include <algorithm>
#include <fstream>
#include <set>

#include "dataset/episodes_table.h"
#include "dataset/info.h"
#include "dataset/lerobot_dataset.h"
#include "dataset/parquet/parquet.h"
#include "dataset/stats.h"
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

// Value of row `r` of a scalar column, or the first element of a one-element list column.
double row_num(const parquet::Column& c, int64_t r) { return numeric_value(c, c.is_list ? c.offsets.at(r) : r); }

std::vector<std::string> row_strings(const parquet::Column& c, int64_t r) {
  if (!c.is_list) return {c.strings.at(r)};
  std::vector<std::string> out;
  for (int64_t i = c.offsets.at(r); i < c.offsets.at(r + 1); ++i) out.push_back(c.strings.at(i));
  return out;
}

std::vector<fs::path> parquet_files_under(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".parquet") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<util::Json> read_jsonl(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw util::RuntimeError(cat(path.string(), ": cannot open"));
  std::vector<util::Json> out;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (util::trim(line).empty()) continue;
    try {
      out.push_back(util::Json::parse(line));
    } catch (const std::exception& e) {
      throw util::RuntimeError(cat(path.string(), ":", n, ": invalid JSON line (", e.what(), ")"));
    }
  }
  return out;
}

int64_t json_int(const util::Json& j, const char* key, int64_t def) {
  if (!j.contains(key) || j[key].is_null()) return def;
  if (j[key].is_number()) return j[key].get<int64_t>();
  if (j[key].is_string()) {
    int64_t v;
    if (util::parse_int64(j[key].get<std::string>(), v)) return v;
  }
  return def;
}

void load_tasks_v3(DatasetMeta& m) {
  fs::path p = m.root / "meta/tasks.parquet";
  if (!fs::exists(p)) {
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
  if (name_col.empty()) throw util::RuntimeError(cat(p.string(), ": no task string column (expected 'task' or '__index_level_0__')"));
  auto t = r.read({name_col, "task_index"});
  const auto& names = t.column(name_col);
  const auto& idx = t.column("task_index");
  for (int64_t i = 0; i < t.num_rows; ++i) {
    auto ti = static_cast<int64_t>(row_num(idx, i));
    if (ti < 0) throw util::RuntimeError(cat(p.string(), ": negative task_index at row ", i));
    if (static_cast<int64_t>(m.tasks.size()) <= ti) m.tasks.resize(ti + 1);
    m.tasks[ti] = names.strings.at(i);
  }
}

void load_tasks_jsonl(DatasetMeta& m) {
  fs::path p = m.root / "meta/tasks.jsonl";
  if (!fs::exists(p)) {
    m.warnings.push_back("meta/tasks.jsonl is missing; samples carry an empty task");
    return;
  }
  for (const auto& j : read_jsonl(p)) {
    int64_t ti = json_int(j, "task_index", -1);
    if (ti < 0 || !j.contains("task")) throw util::RuntimeError(cat(p.string(), ": line without task_index/task"));
    if (static_cast<int64_t>(m.tasks.size()) <= ti) m.tasks.resize(ti + 1);
    m.tasks[ti] = j["task"].get<std::string>();
  }
}

std::string template_of(const DatasetMeta& m, const char* key, const char* def) {
  if (m.info.contains(key) && m.info[key].is_string()) return m.info[key].get<std::string>();
  return def;
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
      if (!have.count(req)) throw util::RuntimeError(cat(file.string(), ": column '", req, "' is missing"));
    auto t = r.read(cols);
    auto col = [&](const std::string& n) -> const parquet::Column* { return t.has(n) ? &t.column(n) : nullptr; };
    for (int64_t i = 0; i < t.num_rows; ++i) {
      Episode e;
      e.index = static_cast<int64_t>(row_num(*col("episode_index"), i));
      e.length = static_cast<int64_t>(row_num(*col("length"), i));
      if (auto c = col("tasks")) e.tasks = row_strings(*c, i);
      e.from_index = col("dataset_from_index") ? static_cast<int64_t>(row_num(*col("dataset_from_index"), i)) : -1;
      e.to_index = col("dataset_to_index") ? static_cast<int64_t>(row_num(*col("dataset_to_index"), i)) : -1;
      int64_t chunk = col("data/chunk_index") ? static_cast<int64_t>(row_num(*col("data/chunk_index"), i)) : 0;
      int64_t fidx = col("data/file_index") ? static_cast<int64_t>(row_num(*col("data/file_index"), i)) : 0;
      e.data_path = m.root / format_path_template(data_tmpl, {{"chunk_index", chunk}, {"file_index", fidx},
                                                              {"episode_chunk", chunk}, {"episode_index", e.index}});
      for (const auto& k : vkeys) {
        auto vc = col(cat("videos/", k, "/chunk_index"));
        auto vf = col(cat("videos/", k, "/file_index"));
        VideoSegment seg;
        int64_t vchunk = vc ? static_cast<int64_t>(row_num(*vc, i)) : 0;
        int64_t vfile = vf ? static_cast<int64_t>(row_num(*vf, i)) : 0;
        seg.path = m.root / format_path_template(video_tmpl, {{"video_key", k}, {"chunk_index", vchunk}, {"file_index", vfile},
                                                              {"episode_chunk", vchunk}, {"episode_index", e.index}});
        if (auto c = col(cat("videos/", k, "/from_timestamp"))) seg.from_timestamp = row_num(*c, i);
        if (auto c = col(cat("videos/", k, "/to_timestamp"))) seg.to_timestamp = row_num(*c, i);
        else seg.to_timestamp = seg.from_timestamp + static_cast<double>(e.length) / std::max(1, m.fps);
        e.videos[k] = seg;
      }
      m.episodes.push_back(std::move(e));
    }
  }
}

// v2.x: one data file and one video per episode; episodes.jsonl holds index/tasks/length.
void load_episodes_v2(DatasetMeta& m) {
  const int64_t chunks_size = json_int(m.info, "chunks_size", 1000);
  const std::string data_tmpl = template_of(m, "data_path", "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet");
  const std::string video_tmpl =
      template_of(m, "video_path", "videos/chunk-{episode_chunk:03d}/{video_key}/episode_{episode_index:06d}.mp4");
  fs::path p = m.root / "meta/episodes.jsonl";
  if (fs::exists(p)) {
    for (const auto& j : read_jsonl(p)) {
      Episode e;
      e.index = json_int(j, "episode_index", -1);
      e.length = json_int(j, "length", -1);
      if (e.index < 0 || e.length < 0) throw util::RuntimeError(cat(p.string(), ": line without episode_index/length"));
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
        auto ep = static_cast<int64_t>(row_num(c, i));
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
    e.to_index = offset + e.length;
    offset = e.to_index;
    const int64_t chunk = e.index / std::max<int64_t>(1, chunks_size);
    e.data_path = m.root / format_path_template(data_tmpl, {{"episode_chunk", chunk}, {"episode_index", e.index},
                                                            {"chunk_index", chunk}, {"file_index", e.index}});
    for (const auto& k : m.video_keys()) {
      VideoSegment seg;
      seg.path = m.root / format_path_template(video_tmpl, {{"episode_chunk", chunk}, {"episode_index", e.index},
                                                            {"video_key", k}, {"chunk_index", chunk}, {"file_index", e.index}});
      seg.from_timestamp = 0;
      seg.to_timestamp = static_cast<double>(e.length) / std::max(1, m.fps);
      e.videos[k] = seg;
    }
  }
}

void load_stats(DatasetMeta& m, bool v2) {
  fs::path p = m.root / "meta/stats.json";
  if (fs::exists(p)) {
    m.stats = stats_from_json(util::read_json_file(p));
    return;
  }
  fs::path ep = m.root / "meta/episodes_stats.jsonl";
  if (v2 && fs::exists(ep)) {
    std::vector<DatasetStats> parts;
    for (const auto& j : read_jsonl(ep))
      if (j.contains("stats")) parts.push_back(stats_from_json(j["stats"]));
    m.stats = aggregate_stats(parts);
    return;
  }
  m.warnings.push_back(v2 ? "meta/stats.json and meta/episodes_stats.jsonl are missing; no normalization stats"
                          : "meta/stats.json is missing; no normalization stats");
}

void check_files(DatasetMeta& m) {
  std::map<fs::path, bool> seen;
  auto exists = [&](const fs::path& p) {
    auto it = seen.find(p);
    if (it != seen.end()) return it->second;
    return seen[p] = fs::exists(p);
  };
  int missing_videos = 0, missing_data = 0;
  for (auto& e : m.episodes) {
    e.data_exists = exists(e.data_path);
    if (!e.data_exists) {
      ++missing_data;
      m.warnings.push_back(cat("episode ", e.index, ": data file ", fs::relative(e.data_path, m.root).string(), " is missing"));
    }
    for (auto& [k, seg] : e.videos) {
      seg.exists = exists(seg.path);
      if (!seg.exists) {
        ++missing_videos;
        m.warnings.push_back(cat("episode ", e.index, ": video ", fs::relative(seg.path, m.root).string(), " is missing"));
      }
    }
  }
  (void)missing_videos;
  (void)missing_data;
}

}  // namespace

DatasetMeta load_metadata(const fs::path& root_in) {
  if (!fs::exists(root_in))
    throw util::InputError(cat(root_in.string(), ": no such directory; pass the root of a LeRobot dataset (the folder holding meta/)"));
  fs::path root = fs::absolute(root_in).lexically_normal();
  if (!fs::exists(root / "meta/info.json"))
    throw util::InputError(cat(root.string(), ": not a LeRobot dataset (meta/info.json is missing); pass the folder holding meta/"));
  DatasetMeta m;
  m.root = root;
  m.info = util::read_json_file(root / "meta/info.json");
  if (!m.info.is_object()) throw util::RuntimeError(cat((root / "meta/info.json").string(), ": not a JSON object"));
  m.codebase_version = m.info.value("codebase_version", std::string());
  if (m.codebase_version.empty()) {
    m.warnings.push_back("meta/info.json has no codebase_version; assuming v3.0");
    m.codebase_version = "v3.0";
  }
  const bool v2 = util::starts_with(m.codebase_version, "v2");
  if (!v2 && !util::starts_with(m.codebase_version, "v3"))
    throw util::InputError(cat(root.string(), ": codebase_version ", m.codebase_version,
                               " is not supported (v2.0, v2.1 and v3.0 are); convert it with LeRobot first"));
  if (m.info.contains("robot_type") && m.info["robot_type"].is_string()) m.robot_type = m.info["robot_type"];
  if (!m.info.contains("fps") || !m.info["fps"].is_number())
    throw util::RuntimeError(cat((root / "meta/info.json").string(), ": \"fps\" is missing"));
  double fps = m.info["fps"].get<double>();
  m.fps = static_cast<int>(std::lround(fps));
  if (m.fps <= 0) throw util::RuntimeError(cat((root / "meta/info.json").string(), ": fps must be positive"));
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
  }
  load_stats(m, v2);
  m.total_episodes = static_cast<int64_t>(m.episodes.size());
  m.total_frames = 0;
  for (const auto& e : m.episodes) m.total_frames += e.length;
  if (json_int(m.info, "total_episodes", m.total_episodes) != m.total_episodes)
    m.warnings.push_back(cat("info.json total_episodes=", json_int(m.info, "total_episodes", 0), " but ", m.total_episodes,
                             " episodes are listed"));
  if (json_int(m.info, "total_frames", m.total_frames) != m.total_frames)
    m.warnings.push_back(cat("info.json total_frames=", json_int(m.info, "total_frames", 0), " but episodes hold ",
                             m.total_frames, " frames"));
  check_files(m);
  return m;
}

}  // namespace robotrain::dataset
