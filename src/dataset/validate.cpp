#include "dataset/validate.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "dataset/info.h"
#include "dataset/parquet/parquet.h"
#include "dataset/video/video.h"
#include "util/error.h"
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

int64_t int_at(const parquet::Column& c, int64_t r) {
  const int64_t i = c.is_list ? c.offsets[r] : r;
  switch (c.type) {
    case parquet::ValueType::Float: return static_cast<int64_t>(c.floats[i]);
    case parquet::ValueType::Double: return static_cast<int64_t>(c.doubles[i]);
    default: return c.ints[i];
  }
}

double double_at(const parquet::Column& c, int64_t r) {
  const int64_t i = c.is_list ? c.offsets[r] : r;
  switch (c.type) {
    case parquet::ValueType::Float: return c.floats[i];
    case parquet::ValueType::Double: return c.doubles[i];
    default: return static_cast<double>(c.ints[i]);
  }
}

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

ValidationReport validate_dataset(const DatasetMeta& m, bool progress) {
  ValidationReport r;
  r.warnings = m.warnings;
  r.episodes = m.total_episodes;
  auto bad = [&](std::string where, std::string what) { r.violations.push_back({std::move(where), std::move(what)}); };
  auto ivalue = [&](const char* key) -> int64_t {
    return m.info.contains(key) && m.info[key].is_number() ? m.info[key].get<int64_t>() : -1;
  };
  if (ivalue("total_episodes") >= 0 && ivalue("total_episodes") != m.total_episodes)
    bad("meta/info.json", cat("total_episodes is ", ivalue("total_episodes"), " but ", m.total_episodes, " episodes are listed"));
  if (ivalue("total_frames") >= 0 && ivalue("total_frames") != m.total_frames)
    bad("meta/info.json", cat("total_frames is ", ivalue("total_frames"), " but the episodes hold ", m.total_frames, " frames"));
  if (ivalue("total_tasks") >= 0 && ivalue("total_tasks") != static_cast<int64_t>(m.tasks.size()))
    bad("meta/info.json", cat("total_tasks is ", ivalue("total_tasks"), " but ", m.tasks.size(), " tasks are listed"));

  // Episode table: indices 0..n-1, contiguous global ranges matching the lengths.
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
    for (const auto& t : e.tasks)
      if (!task_set.count(t)) bad(where, cat("task '", t, "' is not in the tasks table"));
  }

  // Data files: every row checked against its episode.
  std::map<fs::path, std::vector<const Episode*>> by_file;
  std::map<int64_t, const Episode*> by_index;
  for (const auto& e : m.episodes) {
    by_index[e.index] = &e;
    if (e.data_exists) by_file[e.data_path].push_back(&e);
    else bad(cat("episode ", e.index), cat("data file ", rel(m, e.data_path), " is missing"));
  }
  std::vector<std::string> table_keys;
  for (const auto& f : m.features)
    if (!f.is_video() && f.dtype != "string") table_keys.push_back(f.key);
  util::Progress bar("validate", static_cast<int64_t>(by_file.size()));
  std::vector<uint8_t> seen(static_cast<size_t>(std::max<int64_t>(0, m.total_frames)), 0);
  for (const auto& [path, eps] : by_file) {
    const std::string file = rel(m, path);
    parquet::Reader reader(path);
    std::set<std::string> have;
    for (const auto& c : reader.info().columns) have.insert(c.name);
    for (const auto& k : table_keys) {
      const Feature* f = m.feature(k);
      bool present = have.count(k) || (f && f->dtype == "image" && (have.count(k + ".bytes") || have.count(k + ".path")));
      if (!present) bad(file, cat("column '", k, "' of feature '", k, "' is missing"));
    }
    std::vector<std::string> cols;
    for (const char* c : {"index", "episode_index", "frame_index", "timestamp", "task_index"})
      if (have.count(c)) cols.push_back(c);
      else bad(file, cat("default column '", c, "' is missing"));
    auto t = reader.read(cols);
    auto col = [&](const char* n) -> const parquet::Column* { return t.has(n) ? &t.column(n) : nullptr; };
    const auto *ci = col("index"), *ce = col("episode_index"), *cf = col("frame_index"), *ct = col("timestamp"), *ck = col("task_index");
    std::map<int64_t, int64_t> rows_per_ep;
    int64_t prev_index = -1;
    for (int64_t row = 0; row < t.num_rows; ++row) {
      const std::string where = cat(file, " row ", row);
      int64_t ep = ce ? int_at(*ce, row) : -1;
      auto eit = by_index.find(ep);
      if (ce && eit == by_index.end()) {
        bad(where, cat("episode_index ", ep, " is not in the episode table"));
        continue;
      }
      const Episode* e = ce ? eit->second : nullptr;
      if (e && e->data_path != path) bad(where, cat("episode ", ep, " row found in ", file, " but meta points at ", rel(m, e->data_path)));
      int64_t fi = cf ? int_at(*cf, row) : -1;
      if (e && cf) {
        const int64_t expect = rows_per_ep[ep];
        if (fi != expect) bad(where, cat("frame_index is ", fi, ", expected ", expect, " (episode ", ep, ")"));
        if (fi >= e->length) bad(where, cat("frame_index ", fi, " is beyond episode ", ep, " length ", e->length));
      }
      rows_per_ep[ep]++;
      if (ci) {
        int64_t gi = int_at(*ci, row);
        if (e && cf && gi != e->from_index + fi)
          bad(where, cat("index is ", gi, ", expected ", e->from_index + fi, " (episode ", ep, " from ", e->from_index, " + frame ", fi, ")"));
        if (prev_index >= 0 && gi != prev_index + 1) bad(where, cat("index ", gi, " does not follow ", prev_index, " (not contiguous)"));
        prev_index = gi;
        if (gi >= 0 && gi < static_cast<int64_t>(seen.size())) {
          if (seen[gi]) bad(where, cat("index ", gi, " appears twice"));
          seen[gi] = 1;
        } else {
          bad(where, cat("index ", gi, " is outside [0, ", m.total_frames, ")"));
        }
      }
      if (ct && cf) {
        double ts = double_at(*ct, row), expect = static_cast<double>(fi) / m.fps;
        if (std::abs(ts - expect) > 1e-4) bad(where, cat("timestamp ", ts, " != frame_index/fps = ", expect));
      }
      if (ck) {
        int64_t ti = int_at(*ck, row);
        if (ti < 0 || ti >= static_cast<int64_t>(m.tasks.size()))
          bad(where, cat("task_index ", ti, " is not in the tasks table (", m.tasks.size(), " tasks)"));
      }
      ++r.frames_checked;
    }
    for (const Episode* e : eps)
      if (rows_per_ep[e->index] != e->length)
        bad(cat("episode ", e->index), cat(file, " holds ", rows_per_ep[e->index], " rows of it, length is ", e->length));
    if (progress) bar.advance();
  }
  if (progress) bar.finish();
  int64_t unseen = 0;
  for (size_t i = 0; i < seen.size(); ++i)
    if (!seen[i] && by_file.size() == m.episodes.size()) ++unseen;
  if (unseen) bad("data", cat(unseen, " global indices in [0, ", m.total_frames, ") have no row"));

  // Videos: present, and long enough for the episode segments they hold.
  std::map<fs::path, std::pair<double, int64_t>> file_needs;  // path -> (max to_timestamp, frames expected)
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
      auto& need = file_needs[seg.path];
      need.first = std::max(need.first, seg.to_timestamp);
      need.second += e.length;
    }
  }
  for (const auto& [path, need] : file_needs) {
    ++r.videos_checked;
    video::VideoInfo vi;
    try {
      vi = video::probe(path);
    } catch (const std::exception& ex) {
      bad(rel(m, path), cat("cannot be read: ", ex.what()));
      continue;
    }
    const double tol = 1.0 / m.fps + 1e-3;
    if (vi.duration_s + tol < need.first)
      bad(rel(m, path), cat("lasts ", vi.duration_s, " s but episodes reach ", need.first, " s"));
    if (vi.duration_s > 0 && vi.duration_s - need.first > tol)
      bad(rel(m, path), cat("lasts ", vi.duration_s, " s but its episodes end at ", need.first, " s"));
    if (vi.fps > 0 && std::abs(vi.fps - m.fps) > 0.01) bad(rel(m, path), cat("is ", vi.fps, " fps, the dataset is ", m.fps, " fps"));
  }
  return r;
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
