// merge_datasets: sources (v2.1 or v3.0) rewritten into one v3.0 dataset under a staging
// directory that is renamed into place at the end. See merge.h for what the output holds.
#include "dataset/merge.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "dataset/episode_stats.h"
#include "dataset/episodes_table.h"
#include "dataset/info.h"
#include "dataset/parquet/parquet.h"
#include "dataset/staging.h"
#include "dataset/stats.h"
#include "dataset/tasks_table.h"
#include "dataset/untrusted.h"
#include "dataset/validate.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/progress.h"
#include "util/strings.h"

namespace robotrain::dataset {

namespace fs = std::filesystem;
using util::cat;
using parquet::ValueType;

namespace {

const std::string kDataTemplate = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet";
const std::string kVideoTemplate = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4";
const char* kEpisodesFile = "meta/episodes/chunk-000/file-000.parquet";

int64_t info_int(const util::Json& info, const char* key, int64_t def) {
  return info.contains(key) && info[key].is_number_integer() ? info[key].get<int64_t>() : def;
}

// (chunk, file) -> the next file index, rolling into a new chunk directory after chunks_size files.
void next_file(int64_t& chunk, int64_t& file, int64_t chunks_size) {
  if (++file >= chunks_size) {
    file = 0;
    ++chunk;
  }
}

// ---- output data columns ---------------------------------------------------------------

struct OutColumn {
  std::string name;     // parquet column ("<key>" or "<key>.bytes"/"<key>.path" for images)
  ValueType type = ValueType::Float;
  bool is_list = false;
  bool nullable = false;  // image ".path": a source without it contributes nulls
};

ValueType type_for(const Feature& f, bool cast_bool) {
  const std::string& d = f.dtype;
  if (d == "float32" || d == "float16") return ValueType::Float;
  if (d == "float64") return ValueType::Double;
  if (d == "bool") return cast_bool ? ValueType::Float : ValueType::Bool;
  if (d == "int64" || d == "uint32" || d == "uint64") return ValueType::Int64;
  if (d == "int32" || d == "int16" || d == "int8" || d == "uint8" || d == "uint16") return ValueType::Int32;
  if (d == "string") return ValueType::String;
  throw util::InputError(cat("feature '", f.key, "' has dtype '", d, "', which merge cannot rewrite"));
}

struct Plan {
  std::vector<OutColumn> columns;
  parquet::WriteOptions write;
  std::vector<Feature> features;  // output features (bool cast applied)
};

Plan make_plan(const DatasetMeta& m, const MergeOptions& o) {
  Plan p;
  for (Feature f : m.features) {
    if (f.is_video()) {
      p.features.push_back(f);
      continue;
    }
    if (f.dtype == "image") {
      p.columns.push_back({f.key + ".bytes", ValueType::Binary, false, false});
      p.columns.push_back({f.key + ".path", ValueType::String, false, true});
      p.write.struct_columns.push_back(f.key);
      p.features.push_back(f);
      continue;
    }
    OutColumn c{f.key, type_for(f, o.cast_bool_to_float), !(f.shape.size() == 1 && f.shape[0] == 1), false};
    if (f.shape.size() > 1) p.write.list_shapes[f.key] = f.shape;
    if (f.dtype == "bool" && o.cast_bool_to_float) f.dtype = "float32";
    p.columns.push_back(c);
    p.features.push_back(f);
  }
  return p;
}

bool is_int(ValueType t) { return t == ValueType::Int32 || t == ValueType::Int64 || t == ValueType::Bool; }
bool is_text(ValueType t) { return t == ValueType::String || t == ValueType::Binary; }

double num(const parquet::Column& c, int64_t i) {
  switch (c.type) {
    case ValueType::Float: return c.floats[i];
    case ValueType::Double: return c.doubles[i];
    default: return static_cast<double>(c.ints[i]);
  }
}

// Appends to `o` keeping its validity vector only once a null has been seen.
void push_valid(std::vector<uint8_t>& valid, int64_t before, bool ok) {
  if (!ok && valid.empty()) valid.assign(static_cast<size_t>(before), 1);
  if (!valid.empty()) valid.push_back(ok ? 1 : 0);
}

// Value `i` of source column `s` appended to `o`, converted to o.type; returns bytes added.
int64_t push_value(parquet::Column& o, const parquet::Column* s, int64_t i) {
  const int64_t before = o.num_values();
  const bool ok = s && !s->is_null(i);
  push_valid(o.valid, before, ok);
  if (is_text(o.type)) {
    if (ok && !is_text(s->type)) throw util::RuntimeError(cat("column '", o.name, "' holds numbers, text was expected"));
    o.strings.push_back(ok ? s->strings[i] : std::string());
    return static_cast<int64_t>(o.strings.back().size());
  }
  if (ok && is_text(s->type)) throw util::RuntimeError(cat("column '", o.name, "' holds text, numbers were expected"));
  switch (o.type) {
    case ValueType::Float: o.floats.push_back(ok ? static_cast<float>(num(*s, i)) : 0.0f); return 4;
    case ValueType::Double: o.doubles.push_back(ok ? num(*s, i) : 0.0); return 8;
    default:
      // Integers go through int64 when the source is integral, so large values stay exact.
      o.ints.push_back(!ok ? 0 : is_int(s->type) ? s->ints[i] : static_cast<int64_t>(num(*s, i)));
      if (o.type == ValueType::Bool) o.ints.back() = o.ints.back() != 0;
      return 8;
  }
}

// An integer default column value (episode_index, index, task_index) in o's type.
int64_t push_int(parquet::Column& o, int64_t v) {
  push_valid(o.valid, o.num_values(), true);
  if (o.type == ValueType::Float) o.floats.push_back(static_cast<float>(v));
  else if (o.type == ValueType::Double) o.doubles.push_back(static_cast<double>(v));
  else o.ints.push_back(v);
  if (o.is_list) o.offsets.push_back(o.num_values());
  return 8;
}

// Accumulates output rows and writes data files, rolling over at the size limit.
struct DataOut {
  const Plan& plan;
  fs::path dir;
  int64_t chunks_size = 1000, limit_bytes = 100ll << 20;
  parquet::Table table;
  int64_t rows = 0, bytes = 0, chunk = 0, file = 0;

  DataOut(const Plan& p, fs::path d, int64_t cs, int64_t mb) : plan(p), dir(std::move(d)), chunks_size(cs), limit_bytes(mb << 20) {
    reset();
  }
  void reset() {
    table = parquet::Table();
    for (const auto& c : plan.columns) {
      parquet::Column col;
      col.name = c.name;
      col.type = c.type;
      col.is_list = c.is_list;
      if (c.is_list) col.offsets = {0};
      table.columns.push_back(std::move(col));
    }
    rows = bytes = 0;
  }
  fs::path path() const {
    return path_inside(dir, format_path_template(kDataTemplate, {{"chunk_index", chunk}, {"file_index", file}}), "output path");
  }
  // Call after an episode: LeRobot starts a new file once the current one reaches the limit.
  void maybe_roll() {
    if (bytes >= limit_bytes) flush();
  }
  void flush() {
    if (rows == 0) return;
    table.num_rows = rows;
    fs::create_directories(path().parent_path());
    parquet::write_table(path(), table, plan.write);
    reset();
    next_file(chunk, file, chunks_size);
  }
};

// ---- sources ---------------------------------------------------------------------------

struct Source {
  DatasetMeta meta;
  std::vector<DatasetStats> episode_stats;
  std::vector<int64_t> task_map;  // source task_index -> output task_index
};

// One source data file, read once, with each episode's rows.
struct LoadedFile {
  fs::path path;
  parquet::Table table;
  std::map<int64_t, std::vector<int64_t>> rows;  // episode_index -> rows in file order
};

void load_file(const fs::path& path, const Plan& plan, LoadedFile& out) {
  parquet::Reader r(path);
  std::set<std::string> have;
  for (const auto& c : r.info().columns) have.insert(c.name);
  std::vector<std::string> cols;
  for (const auto& c : plan.columns) {
    if (have.count(c.name)) cols.push_back(c.name);
    else if (!c.nullable)
      throw util::RuntimeError(cat(path.string(), ": column '", c.name, "' is missing; the dataset does not match its info.json"));
  }
  out.path = path;
  out.table = r.read(cols);
  out.rows.clear();
  const auto& ep = out.table.column("episode_index");
  for (int64_t i = 0; i < out.table.num_rows; ++i)
    out.rows[static_cast<int64_t>(num(ep, ep.is_list ? ep.offsets[i] : i))].push_back(i);
}

using EpisodeOut = EpisodeRecord;

// Copies one episode's rows, remapping episode_index, index and task_index.
void copy_rows(const LoadedFile& lf, const std::vector<int64_t>& rows, const Source& src, const EpisodeOut& e, DataOut& out) {
  for (size_t ci = 0; ci < out.plan.columns.size(); ++ci) {
    const OutColumn& oc = out.plan.columns[ci];
    parquet::Column& o = out.table.columns[ci];
    const parquet::Column* s = lf.table.has(oc.name) ? &lf.table.column(oc.name) : nullptr;
    for (size_t k = 0; k < rows.size(); ++k) {
      const int64_t r = rows[k];
      if (oc.name == "episode_index" || oc.name == "index" || oc.name == "task_index") {
        int64_t v = e.index;
        if (oc.name == "index") v = e.from + static_cast<int64_t>(k);
        if (oc.name == "task_index") {
          const int64_t old = static_cast<int64_t>(num(*s, s->is_list ? s->offsets[r] : r));
          if (old < 0 || old >= static_cast<int64_t>(src.task_map.size()))
            throw util::RuntimeError(cat(lf.path.string(), " row ", r, ": task_index ", old, " is not in meta/tasks of ",
                                         src.meta.root.string()));
          v = src.task_map[old];
        }
        out.bytes += push_int(o, v);
        continue;
      }
      if (!s) {
        out.bytes += push_value(o, nullptr, 0);
        continue;
      }
      const bool row_null = s->is_list && !s->row_valid.empty() && !s->row_valid[r];
      const int64_t b = s->is_list ? s->offsets[r] : r, end = s->is_list ? s->offsets[r + 1] : r + 1;
      if (!o.is_list) {
        if (end - b != 1 && !row_null)
          throw util::RuntimeError(cat(lf.path.string(), " row ", r, ": column '", oc.name, "' holds ", end - b,
                                       " values where info.json says one"));
        out.bytes += push_value(o, row_null ? nullptr : s, b);
        continue;
      }
      push_valid(o.row_valid, static_cast<int64_t>(o.offsets.size()) - 1, !row_null);
      if (!row_null)
        for (int64_t i = b; i < end; ++i) out.bytes += push_value(o, s, i);
      o.offsets.push_back(o.num_values());
    }
  }
  out.rows += static_cast<int64_t>(rows.size());
}

// ---- metadata files --------------------------------------------------------------------

// Camera stats keep their (3,1,1) shape as nested lists.
void set_stat_shapes(const std::vector<EpisodeOut>& eps, const std::vector<std::pair<std::string, std::string>>& stat_cols,
                     parquet::WriteOptions& w) {
  if (eps.empty()) return;
  for (const auto& [key, stat] : stat_cols) {
    const auto& shape = eps.front().stats.at(key).shapes.at(stat);
    if (shape.size() > 1) w.list_shapes[util::cat("stats/", key, "/", stat)] = shape;
  }
}

// Per-episode stats columns: the (feature, stat) pairs every episode has with one size.
std::vector<std::pair<std::string, std::string>> common_stat_columns(const std::vector<EpisodeOut>& eps) {
  std::vector<std::pair<std::string, std::string>> out;
  if (eps.empty()) return out;
  for (const auto& [key, fst] : eps.front().stats)
    for (const char* stat : kEpisodeStatNames) {
      auto it = fst.values.find(stat);
      if (it == fst.values.end() || !fst.shapes.count(stat)) continue;
      const size_t n = it->second.size();
      bool all = std::all_of(eps.begin(), eps.end(), [&, &key = key](const EpisodeOut& e) {
        auto f = e.stats.find(key);
        return f != e.stats.end() && f->second.values.count(stat) && f->second.values.at(stat).size() == n &&
               f->second.shapes.count(stat);
      });
      if (all) out.emplace_back(key, stat);
    }
  return out;
}

util::Json info_json(const DatasetMeta& first, const Plan& plan, const MergeOptions& o, int64_t episodes, int64_t frames,
                     int64_t tasks, int64_t chunks_size, int64_t data_mb, int64_t video_mb, bool has_video) {
  util::Json j;
  j["codebase_version"] = "v3.0";
  j["robot_type"] = first.info.contains("robot_type") ? first.info["robot_type"] : util::Json();
  j["total_episodes"] = episodes;
  j["total_frames"] = frames;
  j["total_tasks"] = tasks;
  j["chunks_size"] = chunks_size;
  j["data_files_size_in_mb"] = data_mb;
  j["video_files_size_in_mb"] = video_mb;
  j["fps"] = first.fps;
  j["splits"] = {{"train", cat("0:", episodes)}};
  j["data_path"] = kDataTemplate;
  j["video_path"] = has_video ? util::Json(kVideoTemplate) : util::Json();
  util::Json feats = util::Json::object();
  const util::Json src = first.info.contains("features") ? first.info["features"] : util::Json::object();
  for (const auto& f : plan.features) {
    util::Json fj = src.contains(f.key) ? src[f.key] : feature_to_json(f);
    fj["dtype"] = f.dtype;
    if (o.add_feature_fps && !f.is_video()) fj["fps"] = first.fps;
    feats[f.key] = std::move(fj);
  }
  j["features"] = feats;
  // Keys LeRobot does not define but the source carried (e.g. a custom "source" block) stay.
  for (const auto& [k, v] : first.info.items())
    if (!j.contains(k) && k != "total_chunks" && k != "total_videos") j[k] = v;
  return j;
}

// ---- checks before any work ------------------------------------------------------------

bool inside(const fs::path& a, const fs::path& b) {  // a == b or a under b
  auto rel = a.lexically_relative(b);
  return !rel.empty() && *rel.begin() != "..";
}

void check_output(const std::vector<Source>& sources, const fs::path& out, bool overwrite) {
  if (fs::exists(out) && !overwrite)
    throw util::InputError(cat(out.string(), " already exists; choose a new --output or pass --overwrite"));
  for (const auto& s : sources) {
    const fs::path root = fs::weakly_canonical(s.meta.root);
    if (inside(out, root) || inside(root, out))
      throw util::InputError(cat("--output ", out.string(), " overlaps source ", s.meta.root.string(),
                                 "; write the merged dataset somewhere else"));
  }
}

void check_files_present(const DatasetMeta& m) {
  for (const auto& e : m.episodes) {
    if (!e.data_exists)
      throw util::InputError(cat(m.root.string(), ": episode ", e.index, " data file ", e.data_path.string(),
                                 " is missing; download the full dataset before merging"));
    for (const auto& [k, seg] : e.videos)
      if (!seg.exists)
        throw util::InputError(cat(m.root.string(), ": episode ", e.index, " video ", seg.path.string(),
                                   " is missing; download the full dataset before merging"));
  }
}

// Whatever is wrong with a source (unreadable metadata, a corrupt file) is invalid input to
// merge: exit 2 with one line naming the source, before anything is written.
template <class F>
void as_source_error(const fs::path& source, F&& f) {
  try {
    f();
  } catch (const util::Error& e) {
    const std::string what = e.what();
    const std::string name = fs::absolute(source).lexically_normal().string();
    throw util::InputError(what.find(name) != std::string::npos ? what : cat("source ", name, ": ", what));
  }
}

// A source `dataset validate` rejects is never copied: its first violation is the error.
void check_valid(const DatasetMeta& m) {
  const auto report = validate_dataset(m, false);
  if (report.ok()) return;
  const auto& v = report.violations.front();
  throw util::InputError(cat(m.root.string(), " is not a valid dataset (", report.violations.size(), " violation(s), first: ",
                             v.where, ": ", v.what, "); run `robotrain dataset validate ", m.root.string(), "`"));
}

// Output paths are built from the first source's feature keys: each must stay in `dir`.
fs::path output_path(const fs::path& dir, const std::string& relative) {
  return path_inside(dir, relative, "output path");
}

// Every source's metadata, each with all its files present (cheap: reads no data file).
std::vector<Source> load_sources(const std::vector<fs::path>& paths) {
  std::vector<Source> sources;
  for (const auto& p : paths) {
    Source s;
    as_source_error(p, [&] {
      s.meta = load_metadata(p);
      if (s.meta.episodes.empty()) throw util::InputError(cat(s.meta.root.string(), ": the dataset has no episodes"));
      check_files_present(s.meta);
    });
    sources.push_back(std::move(s));
  }
  return sources;
}

void check_sources(const std::vector<Source>& sources) {
  {
    std::vector<DatasetMeta> metas;
    for (const auto& s : sources) metas.push_back(s.meta);
    check_mergeable(metas);
  }
  // Reads every file: after the cheap checks.
  for (const auto& s : sources) as_source_error(s.meta.root, [&] { check_valid(s.meta); });
}

// Tasks: union by string, numbered in order of first appearance (fills each source's task_map).
std::vector<std::string> merge_tasks(std::vector<Source>& sources) {
  std::vector<std::string> tasks;
  std::map<std::string, int64_t> task_index;
  for (auto& s : sources)
    for (const auto& t : s.meta.tasks) {
      auto [it, added] = task_index.emplace(t, static_cast<int64_t>(tasks.size()));
      if (added) tasks.push_back(t);
      s.task_map.push_back(it->second);
    }
  return tasks;
}

// File layout of the output, taken from the first source (LeRobot's defaults for v2.x).
struct Layout {
  int64_t chunks_size, data_mb, video_mb;
};

Layout output_layout(const DatasetMeta& first) {
  const bool v3_first = !util::starts_with(first.codebase_version, "v2");
  const int64_t chunks_size = std::max<int64_t>(1, v3_first ? info_int(first.info, "chunks_size", 1000) : 1000);
  const int64_t data_mb = std::max<int64_t>(1, info_int(first.info, "data_files_size_in_mb", 100));
  const int64_t video_mb = std::max<int64_t>(1, info_int(first.info, "video_files_size_in_mb", 200));
  return {chunks_size, data_mb, video_mb};
}

int64_t total_episodes(const std::vector<Source>& sources) {
  int64_t n = 0;
  for (const auto& s : sources) n += static_cast<int64_t>(s.meta.episodes.size());
  return n;
}

// Video files are copied whole, once per source file: a source's episodes that share a file
// share its copy.
struct VideoCopier {
  fs::path dir;
  int64_t chunks_size;
  std::vector<std::string> keys;
  std::map<std::string, std::pair<int64_t, int64_t>> next_video;  // key -> next (chunk, file)
  std::map<std::string, std::map<fs::path, std::pair<int64_t, int64_t>>> copied;  // key -> source file -> (chunk, file)

  void start_source() { copied.clear(); }

  void copy(const Episode& se, EpisodeOut& e) {
    for (const auto& k : keys) {
      const VideoSegment& seg = se.videos.at(k);
      auto& done = copied[k];
      auto it = done.find(seg.path);
      if (it == done.end()) {
        auto& nv = next_video[k];
        const fs::path dst = output_path(
            dir, format_path_template(kVideoTemplate, {{"video_key", k}, {"chunk_index", nv.first}, {"file_index", nv.second}}));
        fs::create_directories(dst.parent_path());
        fs::copy_file(seg.path, dst);
        it = done.emplace(seg.path, nv).first;
        next_file(nv.first, nv.second, chunks_size);
      }
      e.videos[k] = {it->second.first, it->second.second, seg.from_timestamp, seg.to_timestamp};
    }
  }
};

// The output episodes so far and the frames they hold.
struct Written {
  std::vector<EpisodeOut> eps;
  int64_t frames = 0;
};

// Episode i of source s appended to the output: its rows, its videos and its stats.
EpisodeOut copy_episode(const Source& s, size_t i, const Plan& plan, const Written& w, LoadedFile& lf, DataOut& data,
                        VideoCopier& videos) {
  const Episode& se = s.meta.episodes[i];
  EpisodeOut e;
  e.index = static_cast<int64_t>(w.eps.size());
  e.length = se.length;
  e.from = w.frames;
  e.to = w.frames + se.length;
  for (const auto& t : se.tasks) e.tasks.push_back(t);
  if (lf.path != se.data_path) load_file(se.data_path, plan, lf);
  auto rows = lf.rows.find(se.index);
  const int64_t n = rows == lf.rows.end() ? 0 : static_cast<int64_t>(rows->second.size());
  if (n != se.length)
    throw util::RuntimeError(cat(se.data_path.string(), " holds ", n, " rows of episode ", se.index, " but its length is ",
                                 se.length, " (", s.meta.root.string(), "); run `robotrain dataset validate` on it"));
  e.data_chunk = data.chunk;
  e.data_file = data.file;
  copy_rows(lf, rows->second, s, e, data);
  data.maybe_roll();
  videos.copy(se, e);
  e.stats = s.episode_stats[i];
  return e;
}

void copy_episodes(const std::vector<Source>& sources, const Plan& plan, DataOut& data, VideoCopier& videos, Written& w,
                   std::optional<util::Progress>& progress) {
  for (const auto& s : sources) {
    LoadedFile lf;
    videos.start_source();
    for (size_t i = 0; i < s.meta.episodes.size(); ++i) {
      EpisodeOut e = copy_episode(s, i, plan, w, lf, data, videos);
      w.frames += s.meta.episodes[i].length;
      w.eps.push_back(std::move(e));
      if (progress) progress->advance();
    }
  }
  data.flush();
}

void write_episodes_meta(const fs::path& dir, const std::vector<EpisodeOut>& eps, const std::vector<std::string>& video_keys) {
  // Bool features now hold floats: their per-episode stats keep the same numbers.
  parquet::WriteOptions ew;
  const auto stat_cols = common_stat_columns(eps);
  set_stat_shapes(eps, stat_cols, ew);
  parquet::write_table(dir / kEpisodesFile, episodes_table(eps, video_keys, stat_cols), ew);
}

void write_stats_json(const fs::path& dir, const std::vector<Source>& sources) {
  std::vector<DatasetStats> parts;
  for (const auto& s : sources) {
    if (s.meta.stats.empty()) util::log_warn("merge: ", s.meta.root.string(), " has no stats; stats.json covers the others only");
    else parts.push_back(s.meta.stats);
  }
  util::write_json_file(dir / "meta/stats.json", stats_to_json(aggregate_stats(parts)));
}

MergeReport merge_report(const Written& w, size_t tasks, const fs::path& output, const MergeOptions& o) {
  MergeReport r;
  r.episodes = static_cast<int64_t>(w.eps.size());
  r.frames = w.frames;
  r.tasks = static_cast<int64_t>(tasks);
  r.repo_id = o.repo_id.empty() ? output.filename().string() : o.repo_id;
  r.output = output;
  return r;
}

}  // namespace

MergeReport merge_datasets(const std::vector<fs::path>& paths, const fs::path& output_in, const MergeOptions& o) {
  if (paths.empty()) throw util::InputError("merge needs at least one source dataset");
  if (output_in.empty()) throw util::InputError("merge needs an --output directory");
  std::vector<Source> sources = load_sources(paths);
  check_sources(sources);
  const fs::path output = fs::weakly_canonical(fs::absolute(output_in));
  check_output(sources, output, o.overwrite);
  const DatasetMeta& first = sources.front().meta;
  const Plan plan = make_plan(first, o);
  const std::vector<std::string> tasks = merge_tasks(sources);
  for (auto& s : sources) s.episode_stats = load_episode_stats(s.meta);
  const Layout layout = output_layout(first);
  const auto video_keys = first.video_keys();

  if (output.has_parent_path()) fs::create_directories(output.parent_path());
  remove_stale_staging(output);
  util::StagedDir staged(output);
  const fs::path dir = staged.path();
  fs::create_directories(dir / "meta/episodes/chunk-000");

  std::optional<util::Progress> progress;
  if (o.progress) progress.emplace("merge", total_episodes(sources));
  DataOut data(plan, dir, layout.chunks_size, layout.data_mb);
  VideoCopier videos{dir, layout.chunks_size, video_keys, {}, {}};
  Written w;
  copy_episodes(sources, plan, data, videos, w, progress);

  write_episodes_meta(dir, w.eps, video_keys);
  write_tasks_parquet(dir / "meta/tasks.parquet", tasks);
  write_stats_json(dir, sources);
  util::write_json_file(dir / "meta/info.json", info_json(first, plan, o, static_cast<int64_t>(w.eps.size()), w.frames,
                                                          static_cast<int64_t>(tasks.size()), layout.chunks_size, layout.data_mb,
                                                          layout.video_mb, !video_keys.empty()));
  staged.commit(o.overwrite);
  if (progress) progress->finish();
  return merge_report(w, tasks.size(), output, o);
}

}  // namespace robotrain::dataset
