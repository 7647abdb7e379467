#include "dataset/validate.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <sstream>

#include "dataset/info.h"
#include "dataset/parquet/parquet.h"
#include "dataset/png.h"
#include "dataset/untrusted.h"
#include "dataset/video/video.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/progress.h"
#include "util/strings.h"

namespace robotrain::dataset {

namespace fs = std::filesystem;
using util::cat;

namespace {

int64_t dir_bytes(const fs::path& p) {
  int64_t n = 0;
  std::error_code ec;
  if (!fs::is_directory(p, ec)) return 0;
  for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    if (it->is_regular_file(ec)) n += static_cast<int64_t>(it->file_size(ec));
  return n;
}

std::string rel(const DatasetMeta& m, const fs::path& p) { return fs::relative(p, m.root).string(); }

}  // namespace

util::Json dataset_summary(const DatasetMeta& m) {
  util::Json j;
  j["path"] = m.root.string();
  j["codebase_version"] = m.codebase_version;
  j["robot_type"] = m.robot_type;
  j["fps"] = m.fps;
  j["episodes"] = m.total_episodes;
  j["frames"] = m.total_frames;
  j["tasks"] = static_cast<int64_t>(m.tasks.size());
  j["duration_s"] = static_cast<double>(m.total_frames) / m.fps;
  util::Json feats = util::Json::array();
  for (const auto& f : m.features) {
    util::Json fj;
    fj["key"] = f.key;
    fj["dtype"] = f.dtype;
    fj["shape"] = f.shape;
    fj["role"] = feature_role_name(feature_role(f));
    if (f.is_visual()) {
      std::string codec = feature_codec(f);
      if (codec.empty() && f.is_video()) {
        for (const auto& e : m.episodes) {
          auto it = e.videos.find(f.key);
          if (it == e.videos.end() || !it->second.exists) continue;
          try {
            codec = video::probe(it->second.path).codec;
          } catch (const std::exception&) {
          }
          break;
        }
      }
      if (!codec.empty()) fj["codec"] = codec;
    }
    auto names = flat_names(f);
    if (!names.empty() && names.size() <= 32) fj["names"] = names;
    feats.push_back(fj);
  }
  j["features"] = feats;
  const int64_t data = dir_bytes(m.root / "data"), videos = dir_bytes(m.root / "videos"), meta = dir_bytes(m.root / "meta");
  const int64_t images = dir_bytes(m.root / "images");
  j["size_bytes"] = {{"total", data + videos + meta + images}, {"data", data}, {"videos", videos}, {"meta", meta}};
  util::Json missing = util::Json::array();
  for (const auto& e : m.episodes) {
    if (!e.data_exists) missing.push_back({{"episode", e.index}, {"file", rel(m, e.data_path)}});
    for (const auto& [k, seg] : e.videos)
      if (!seg.exists) missing.push_back({{"episode", e.index}, {"file", rel(m, seg.path)}});
  }
  j["missing"] = missing;
  j["warnings"] = m.warnings;
  return j;
}

std::string format_summary(const util::Json& j) {
  std::ostringstream o;
  o << "dataset:   " << j["path"].get<std::string>() << "\n";
  o << "version:   " << j["codebase_version"].get<std::string>();
  if (!j["robot_type"].get<std::string>().empty()) o << "  robot: " << j["robot_type"].get<std::string>();
  o << "\n";
  o << "episodes:  " << j["episodes"].get<int64_t>() << "  frames: " << j["frames"].get<int64_t>()
    << "  fps: " << j["fps"].get<int>() << "  tasks: " << j["tasks"].get<int64_t>() << "  duration: "
    << util::cat(std::round(j["duration_s"].get<double>() * 10) / 10) << " s\n";
  const auto& sz = j["size_bytes"];
  o << "size:      " << util::human_bytes(sz["total"].get<double>()) << " (data " << util::human_bytes(sz["data"].get<double>())
    << ", videos " << util::human_bytes(sz["videos"].get<double>()) << ", meta " << util::human_bytes(sz["meta"].get<double>())
    << ")\n";
  o << "features:\n";
  for (const auto& f : j["features"]) {
    std::string shape;
    for (const auto& d : f["shape"]) shape += (shape.empty() ? "" : ",") + std::to_string(d.get<int64_t>());
    o << "  " << f["key"].get<std::string>() << "  " << f["dtype"].get<std::string>() << " [" << shape << "]  "
      << f["role"].get<std::string>();
    if (f.contains("codec")) o << "  codec " << f["codec"].get<std::string>();
    o << "\n";
  }
  if (!j["missing"].empty()) {
    o << "missing:   " << j["missing"].size() << " file(s)\n";
    for (const auto& x : j["missing"])
      o << "  episode " << x["episode"].get<int64_t>() << ": " << x["file"].get<std::string>() << "\n";
  }
  if (!j["warnings"].empty()) {
    o << "warnings:\n";
    for (const auto& w : j["warnings"]) o << "  " << w.get<std::string>() << "\n";
  }
  return o.str();
}

namespace {

// One validation pass: the report and the helpers every check shares.
struct Validator {
  const DatasetMeta& m;
  const ValidateOptions& o;
  ValidationReport r;

  void bad(std::string where, std::string what) { r.violations.push_back({std::move(where), std::move(what)}); }

  void check_counts() {
    auto declared = [&](const char* key) -> int64_t {
      const auto& j = m.info;
      return j.contains(key) && j[key].is_number_integer() ? j[key].get<int64_t>() : -1;
    };
    if (declared("total_episodes") >= 0 && declared("total_episodes") != m.total_episodes)
      bad("meta/info.json", cat("total_episodes is ", declared("total_episodes"), " but ", m.total_episodes, " episodes are listed"));
    if (declared("total_frames") >= 0 && declared("total_frames") != m.total_frames)
      bad("meta/info.json", cat("total_frames is ", declared("total_frames"), " but the episodes hold ", m.total_frames, " frames"));
    if (declared("total_tasks") >= 0 && declared("total_tasks") != static_cast<int64_t>(m.tasks.size()))
      bad("meta/info.json", cat("total_tasks is ", declared("total_tasks"), " but ", m.tasks.size(), " tasks are listed"));
    if (m.episodes.empty()) bad("meta/episodes", "lists no episodes");
    if (m.tasks.empty()) bad("meta/tasks", "lists no tasks");
  }

  // Episode table: indices 0..n-1, contiguous global ranges matching the lengths.
  void check_episodes() {
    int64_t expect_from = 0;
    std::set<std::string> task_set(m.tasks.begin(), m.tasks.end());
    for (size_t i = 0; i < m.episodes.size(); ++i) {
      const auto& e = m.episodes[i];
      const std::string where = cat("episode ", e.index);
      if (e.index != static_cast<int64_t>(i)) bad(where, cat("episode indices are not contiguous (expected ", i, ")"));
      if (e.length <= 0) bad(where, cat("length is ", e.length));
      if (e.from_index != expect_from)
        bad(where, cat("dataset_from_index is ", e.from_index, ", expected ", expect_from, " (end of the previous episode)"));
      if (e.to_index - e.from_index != e.length)
        bad(where, cat("dataset_to_index - dataset_from_index = ", e.to_index - e.from_index, " but length is ", e.length));
      expect_from = e.to_index;
      if (e.tasks.empty()) bad(where, "has an empty task list");
      for (const auto& t : e.tasks)
        if (!task_set.count(t)) bad(where, cat("task '", shown(t), "' is not in the tasks table"));
    }
  }

  // What training normalises with: min/max/mean/std of every state, environment and action
  // feature (sizes and types were checked when the metadata was read).
  void check_stats() {
    for (const auto& f : m.features) {
      const auto role = feature_role(f);
      if (role != FeatureRole::State && role != FeatureRole::Env && role != FeatureRole::Action) continue;
      auto it = m.stats.find(f.key);
      for (const char* stat : {"min", "max", "mean", "std"}) {
        if (it == m.stats.end() || !it->second.values.count(stat)) {
          bad("meta/stats", cat("dataset stats lack '", f.key, ".", stat, "', which training normalises with (recompute the stats)"));
          continue;
        }
        for (double v : it->second.values.at(stat))
          if (!std::isfinite(v)) {
            bad("meta/stats", cat("'", f.key, "' ", stat, " holds ", v, "; statistics must be finite"));
            break;
          }
      }
    }
  }

  // ---- data files -----------------------------------------------------------------------

  // Values of a numeric column as int64 (nullopt for a null or non-numeric cell).
  static std::optional<double> number_at(const parquet::Column& c, int64_t r) {
    if (c.is_list && (r + 1 >= static_cast<int64_t>(c.offsets.size()) || c.offsets[r + 1] <= c.offsets[r])) return std::nullopt;
    const int64_t i = c.is_list ? c.offsets[r] : r;
    if (c.is_null(i)) return std::nullopt;
    switch (c.type) {
      case parquet::ValueType::Float: return c.floats.at(i);
      case parquet::ValueType::Double: return c.doubles.at(i);
      case parquet::ValueType::String:
      case parquet::ValueType::Binary: return std::nullopt;
      default: return static_cast<double>(c.ints.at(i));
    }
  }

  // A cell for a message: integers without an exponent, "null" for a missing one.
  static std::string text(const std::optional<double>& v) {
    if (!v) return "null";
    if (std::isfinite(*v) && *v == std::floor(*v) && std::abs(*v) < 9e15) return cat(static_cast<int64_t>(*v));
    return cat(*v);
  }

  static bool numeric(const parquet::Column& c) {
    return c.type != parquet::ValueType::String && c.type != parquet::ValueType::Binary;
  }

  // A feature column against its info.json entry: the value type, and every row holding as
  // many values as the shape (a list column for a shape other than [1]).
  void check_feature_column(const std::string& file, const Feature& f, const parquet::Column& c) {
    const bool text = f.dtype == "string" || f.dtype == "language";
    if (text != !numeric(c)) {
      bad(file, cat("column '", f.key, "' holds ", parquet::value_type_name(c.type), " values, info.json dtype is ", f.dtype));
      return;
    }
    if (text) return;
    int64_t want = 1;
    for (auto d : f.shape) want *= d;
    const int64_t rows = c.num_rows();
    for (int64_t row = 0; row < rows; ++row) {
      const int64_t n = c.is_list ? c.offsets[row + 1] - c.offsets[row] : 1;
      const bool null_row = c.is_list ? !c.row_valid.empty() && !c.row_valid[row] : c.is_null(row);
      if (null_row) {
        bad(cat(file, " row ", row), cat("column '", f.key, "' is null"));
        return;
      }
      if (n != want) {
        bad(cat(file, " row ", row), cat("column '", f.key, "' holds ", n, " value(s) but info.json shape ", util::Json(f.shape).dump(),
                                         " says ", want, "; fix the shape in meta/info.json or the data"));
        return;  // one line per column and file is enough
      }
    }
  }

  // An image column: each PNG's header and CRCs (cheap), and a full decode of the first,
  // middle and last rows (every row with --deep), against the declared height and width.
  void check_image_column(const std::string& file, const Feature& f, const parquet::Table& t) {
    const auto chw = camera_chw(f);
    const parquet::Column* bytes = t.has(f.key + ".bytes") ? &t.column(f.key + ".bytes") : nullptr;
    const parquet::Column* paths = t.has(f.key + ".path") ? &t.column(f.key + ".path") : nullptr;
    int64_t problems = 0;
    for (int64_t row = 0; row < t.num_rows && problems == 0; ++row) {
      const std::string where = cat(file, " row ", row);
      const bool decode = o.deep || row == 0 || row == t.num_rows / 2 || row == t.num_rows - 1;
      std::string png, what;
      try {
        if (bytes && !bytes->is_null(row) && row < static_cast<int64_t>(bytes->strings.size()) && !bytes->strings[row].empty()) {
          png = bytes->strings[row];
          what = cat("column '", f.key, "'");
        } else if (paths && !paths->is_null(row) && row < static_cast<int64_t>(paths->strings.size()) && !paths->strings[row].empty()) {
          const fs::path p = path_inside(m.root, paths->strings[row], cat("image path of , f.key, "));
          if (!regular_file_exists(p)) throw util::RuntimeError(cat("image file ", rel(m, p), " is missing"));
          png = util::read_file(p);
          what = cat("image file ", rel(m, p));
        } else {
          throw util::RuntimeError(cat("column '", f.key, "' has neither image bytes nor a path"));
        }
        const auto h = check_png(png, what);
        if (h.height != chw[1] || h.width != chw[2])
          throw util::RuntimeError(cat(what, ": image is ", h.width, "x", h.height, " (width x height) but info.json declares ",
                                       chw[2], "x", chw[1]));
        if (decode) decode_png(png, what, static_cast<int>(chw[2]), static_cast<int>(chw[1]));
      } catch (const util::Error& e) {
        bad(where, e.what());
        ++problems;
      }
    }
  }

  // The columns of a data file to read: the default ones and every non-video feature's. A
  // missing one is a violation (reading goes on with the others).
  std::vector<std::string> data_columns(const std::string& file, const std::set<std::string>& have) {
    std::vector<std::string> cols;
    for (const char* c : {"index", "episode_index", "frame_index", "timestamp", "task_index"})
      if (have.count(c)) cols.push_back(c);
      else bad(file, cat("default column '", c, "' is missing"));
    for (const auto& f : m.features) {
      if (f.is_video() || is_default_feature(f.key)) continue;
      if (f.dtype == "image") {
        if (!have.count(f.key + ".bytes") && !have.count(f.key + ".path"))
          bad(file, cat("image column '", f.key, "' (struct bytes/path) is missing"));
        for (const char* leaf : {".bytes", ".path"})
          if (have.count(f.key + leaf)) cols.push_back(f.key + leaf);
      } else if (!have.count(f.key)) {
        bad(file, cat("column '", f.key, "' of feature '", f.key, "' is missing"));
      } else {
        cols.push_back(f.key);
      }
    }
    return cols;
  }

  // Reads a data file's columns into t; false (with the violation reported) when it cannot.
  bool read_data_file(const fs::path& path, const std::string& file, parquet::Table& t) {
    try {
      parquet::Reader reader(path);
      std::set<std::string> have;
      for (const auto& c : reader.info().columns) have.insert(c.name);
      t = reader.read(data_columns(file, have));
      return true;
    } catch (const util::Error& e) {
      bad(file, cat("cannot be read: ", e.what()));
      return false;
    }
  }

  void check_feature_columns(const std::string& file, const parquet::Table& t) {
    for (const auto& f : m.features) {
      if (f.is_video()) continue;
      if (f.dtype == "image") check_image_column(file, f, t);
      else if (t.has(f.key)) check_feature_column(file, f, t.column(f.key));
    }
  }

  // A default column that holds numbers, or null (reported when it holds text, absent when missing).
  const parquet::Column* number_column(const std::string& file, const parquet::Table& t, const char* n) {
    if (!t.has(n)) return nullptr;
    const auto& c = t.column(n);
    if (!numeric(c)) {
      bad(file, cat("column '", n, "' holds ", parquet::value_type_name(c.type), ", integers are expected"));
      return nullptr;
    }
    return &c;
  }

  // The default columns of one data file, row by row, against the episode table.
  struct DataRows {
    Validator& v;
    const fs::path& path;
    const std::string& file;
    const std::map<int64_t, const Episode*>& by_index;
    std::vector<int64_t>& indices_seen;
    const parquet::Column *ci = nullptr, *ce = nullptr, *cf = nullptr, *ct = nullptr, *ck = nullptr;  // null: missing or text
    std::map<int64_t, int64_t> rows_per_ep;
    int64_t prev_index = -1, reported = 0;

    void bad_row(const std::string& where, std::string what) {
      // A file whose every row is off would print one line per row: a few show the pattern.
      if (++reported <= 20) v.bad(where, std::move(what));
      else if (reported == 21) v.bad(file, "more rows are inconsistent (not listed)");
    }

    void check_row(int64_t row) {
      const std::string where = cat(file, " row ", row);
      auto ep_v = ce ? number_at(*ce, row) : std::nullopt;
      if (ce && !ep_v) {
        bad_row(where, "episode_index is null or empty");
        return;
      }
      const int64_t ep = ep_v ? static_cast<int64_t>(*ep_v) : -1;
      auto eit = by_index.find(ep);
      if (ce && eit == by_index.end()) {
        bad_row(where, cat("episode_index ", text(ep_v), " is not in the episode table"));
        return;
      }
      const Episode* e = ce ? eit->second : nullptr;
      if (e && e->data_path != path) bad_row(where, cat("episode ", ep, " row found in ", file, " but meta points at ", rel(v.m, e->data_path)));
      auto fi_v = cf ? number_at(*cf, row) : std::nullopt;
      const int64_t fi = fi_v && std::abs(*fi_v) < 9e15 ? static_cast<int64_t>(*fi_v) : -1;
      if (e && cf) {
        const int64_t expect = rows_per_ep[ep];
        if (fi != expect) bad_row(where, cat("frame_index is ", text(fi_v), ", expected ", expect, " (episode ", ep, ")"));
        if (fi >= e->length) bad_row(where, cat("frame_index ", fi, " is beyond episode ", ep, " length ", e->length));
      }
      rows_per_ep[ep]++;
      if (ci) check_index(where, row, e, ep, fi);
      if (ct && cf) check_timestamp(where, row, fi);
      if (ck) check_task(where, row);
      ++v.r.frames_checked;
    }

    void check_index(const std::string& where, int64_t row, const Episode* e, int64_t ep, int64_t fi) {
      auto gi_v = number_at(*ci, row);
      const int64_t gi = gi_v && std::abs(*gi_v) < 9e15 ? static_cast<int64_t>(*gi_v) : -1;
      if (e && cf && gi != e->from_index + fi)
        bad_row(where, cat("index is ", text(gi_v), ", expected ", e->from_index + fi, " (episode ", ep, " from ",
                           e->from_index, " + frame ", fi, ")"));
      if (prev_index >= 0 && gi != prev_index + 1) bad_row(where, cat("index ", gi, " does not follow ", prev_index, " (not contiguous)"));
      prev_index = gi;
      if (gi >= 0 && gi < v.m.total_frames) indices_seen.push_back(gi);
      else bad_row(where, cat("index ", text(gi_v), " is outside [0, ", v.m.total_frames, ")"));
    }

    void check_timestamp(const std::string& where, int64_t row, int64_t fi) {
      auto ts = number_at(*ct, row);
      const double expect = static_cast<double>(fi) / v.m.fps;
      if (!ts || !(std::abs(*ts - expect) <= 1e-4))
        bad_row(where, cat("timestamp ", text(ts), " != frame_index/fps = ", expect));
    }

    void check_task(const std::string& where, int64_t row) {
      auto ti = number_at(*ck, row);
      if (!ti || !(*ti >= 0 && *ti < static_cast<double>(v.m.tasks.size())))
        bad_row(where, cat("task_index ", text(ti), " is not in the tasks table (", v.m.tasks.size(), " tasks)"));
    }
  };

  void check_data_file(const fs::path& path, const std::vector<const Episode*>& eps, std::map<int64_t, const Episode*>& by_index,
                       std::vector<int64_t>& indices_seen) {
    const std::string file = rel(m, path);
    parquet::Table t;
    if (!read_data_file(path, file, t)) return;
    check_feature_columns(file, t);
    // Braced initialisers run in order: type violations are reported column by column.
    DataRows rows{*this, path, file, by_index, indices_seen, number_column(file, t, "index"),
                  number_column(file, t, "episode_index"), number_column(file, t, "frame_index"),
                  number_column(file, t, "timestamp"), number_column(file, t, "task_index"), {}, -1, 0};
    for (int64_t row = 0; row < t.num_rows; ++row) rows.check_row(row);
    for (const Episode* e : eps)
      if (rows.rows_per_ep[e->index] != e->length)
        bad(cat("episode ", e->index), cat(file, " holds ", rows.rows_per_ep[e->index], " rows of it, length is ", e->length));
  }

  void check_data() {
    std::map<fs::path, std::vector<const Episode*>> by_file;
    std::map<int64_t, const Episode*> by_index;
    for (const auto& e : m.episodes) {
      by_index[e.index] = &e;
      if (e.data_exists) by_file[e.data_path].push_back(&e);
      else bad(cat("episode ", e.index), cat("data file ", rel(m, e.data_path), " is missing"));
    }
    util::Progress bar("validate", static_cast<int64_t>(by_file.size()));
    // Global indices actually read (bounded by the rows present, never by a declared count).
    std::vector<int64_t> seen;
    for (const auto& [path, eps] : by_file) {
      check_data_file(path, eps, by_index, seen);
      if (o.progress) bar.advance();
    }
    if (o.progress) bar.finish();
    std::sort(seen.begin(), seen.end());
    int64_t duplicates = 0;
    for (size_t i = 1; i < seen.size(); ++i) duplicates += seen[i] == seen[i - 1];
    if (duplicates) bad("data", cat(duplicates, " global indices appear more than once"));
    const auto distinct = static_cast<int64_t>(seen.size()) - duplicates;
    if (by_file.size() == m.episodes.size() && distinct < m.total_frames)
      bad("data", cat(m.total_frames - distinct, " global indices in [0, ", m.total_frames, ") have no row"));
  }

  // ---- videos -----------------------------------------------------------------------------

  struct VideoNeeds {
    const Feature* feature = nullptr;
    double end_s = 0;                 // latest to_timestamp of its episodes
    std::vector<double> probe_s;      // frame times (in the file) to decode
    int64_t frames = 0;               // frames its episodes hold
  };

  void check_videos() {
    std::map<fs::path, VideoNeeds> files;
    for (const auto& e : m.episodes) {
      for (const auto& [k, seg] : e.videos) {
        const std::string where = cat("episode ", e.index, " ", k);
        if (!seg.exists) {
          bad(where, cat("video ", rel(m, seg.path), " is missing"));
          continue;
        }
        const double seg_len = seg.to_timestamp - seg.from_timestamp, want = static_cast<double>(e.length) / m.fps;
        if (std::abs(seg_len - want) > 1.0 / m.fps + 1e-4)
          bad(where, cat("video segment lasts ", seg_len, " s (", seg.from_timestamp, "..", seg.to_timestamp, "), episode length ",
                         e.length, " frames = ", want, " s"));
        auto& need = files[seg.path];
        need.feature = m.feature(k);
        need.end_s = std::max(need.end_s, seg.to_timestamp);
        need.frames += e.length;
        if (e.length > 0) {
          need.probe_s.push_back(seg.from_timestamp);
          need.probe_s.push_back(seg.from_timestamp + static_cast<double>(e.length / 2) / m.fps);
          need.probe_s.push_back(seg.from_timestamp + static_cast<double>(e.length - 1) / m.fps);
        }
      }
    }
    for (auto& [path, need] : files) check_video_file(path, need);
  }

  void check_video_file(const fs::path& path, VideoNeeds& need) {
    ++r.videos_checked;
    const std::string file = rel(m, path);
    video::VideoInfo vi;
    try {
      vi = video::probe(path);
    } catch (const std::exception& ex) {
      bad(file, cat("cannot be read: ", ex.what()));
      return;
    }
    const double tol = 1.0 / m.fps + 1e-3;
    if (vi.duration_s + tol < need.end_s) bad(file, cat("lasts ", vi.duration_s, " s but episodes reach ", need.end_s, " s"));
    if (vi.duration_s > 0 && vi.duration_s - need.end_s > tol)
      bad(file, cat("lasts ", vi.duration_s, " s but its episodes end at ", need.end_s, " s"));
    if (vi.fps > 0 && std::abs(vi.fps - m.fps) > 0.01) bad(file, cat("is ", vi.fps, " fps, the dataset is ", m.fps, " fps"));
    auto size_mismatch = [&](int w, int h) { return need.feature ? video_size_mismatch(*need.feature, w, h) : std::string(); };
    if (auto mismatch = size_mismatch(vi.width, vi.height); !mismatch.empty()) {
      bad(file, mismatch);
      return;
    }
    try {
      video::Decoder d(path);
      if (o.deep) {
        // Every frame, in order: a damaged packet anywhere shows up here.
        video::Frame f;
        int64_t n = 0;
        while (d.next(f)) {
          if (auto mismatch = size_mismatch(f.width, f.height); !mismatch.empty()) throw util::RuntimeError(mismatch);
          ++n;
        }
        if (n < need.frames) bad(file, cat("decodes to ", n, " frames but its episodes hold ", need.frames));
        return;
      }
      // First, middle and last frames of the file's episodes (a bounded cost per file).
      std::sort(need.probe_s.begin(), need.probe_s.end());
      std::vector<double> probes;
      if (!need.probe_s.empty())
        probes = {need.probe_s.front(), need.probe_s[need.probe_s.size() / 2], need.probe_s.back()};
      for (const auto& f : d.frames_at(probes, 1e-4))
        if (auto mismatch = size_mismatch(f.width, f.height); !mismatch.empty()) throw util::RuntimeError(mismatch);
    } catch (const util::Error& ex) {
      bad(file, cat("decode probe failed: ", ex.what()));
    }
  }
};

}  // namespace

ValidationReport validate_dataset(const DatasetMeta& m, const ValidateOptions& o) {
  Validator v{m, o, {}};
  v.r.warnings = m.warnings;
  v.r.episodes = m.total_episodes;
  v.check_counts();
  v.check_episodes();
  v.check_stats();
  v.check_data();
  v.check_videos();
  return std::move(v.r);
}

ValidationReport validate_dataset(const DatasetMeta& meta, bool progress) {
  ValidateOptions o;
  o.progress = progress;
  return validate_dataset(meta, o);
}

util::Json report_to_json(const ValidationReport& r) {
  util::Json j;
  j["ok"] = r.ok();
  j["episodes"] = r.episodes;
  j["frames_checked"] = r.frames_checked;
  j["videos_checked"] = r.videos_checked;
  util::Json v = util::Json::array();
  for (const auto& x : r.violations) v.push_back({{"where", x.where}, {"what", x.what}});
  j["violations"] = v;
  j["warnings"] = r.warnings;
  return j;
}

}  // namespace robotrain::dataset
