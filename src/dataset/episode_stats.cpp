#include "dataset/episodes_table.h"
#include "dataset/episode_stats.h"

#include <algorithm>
#include <map>

#include "dataset/parquet/parquet.h"
#include "dataset/stats.h"
#include "dataset/untrusted.h"
#include "util/error.h"
#include "util/json.h"
#include "util/strings.h"

namespace robotrain::dataset {

namespace fs = std::filesystem;
using util::cat;

namespace {

// The stat's shape as the global stats.json has it when the sizes agree (cameras: [3,1,1]),
// else flat.
std::vector<int64_t> shape_for(const DatasetMeta& m, const std::string& key, const std::string& stat, size_t n) {
  auto f = m.stats.find(key);
  if (f != m.stats.end()) {
    auto s = f->second.shapes.find(stat);
    if (s != f->second.shapes.end()) {
      int64_t p = 1;
      for (auto d : s->second) p *= d;
      if (p == static_cast<int64_t>(n)) return s->second;
    }
  }
  return {static_cast<int64_t>(n)};
}

void load_v3(const DatasetMeta& m, const std::map<int64_t, size_t>& pos, std::vector<DatasetStats>& out) {
  std::vector<fs::path> files;
  if (fs::is_directory(m.root / "meta/episodes"))
    for (const auto& e : fs::recursive_directory_iterator(m.root / "meta/episodes"))
      if (e.is_regular_file() && e.path().extension() == ".parquet") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    parquet::Reader r(file);
    std::vector<std::string> cols = {"episode_index"};
    for (const auto& c : r.info().columns)
      if (util::starts_with(c.name, "stats/") && c.name.rfind('/') > 6) cols.push_back(c.name);
    if (cols.size() == 1) continue;
    auto t = r.read(cols);
    const auto& ep = t.column("episode_index");
    for (size_t ci = 1; ci < cols.size(); ++ci) {
      const auto& c = t.column(cols[ci]);
      const auto slash = cols[ci].rfind('/');
      const std::string key = cols[ci].substr(6, slash - 6), stat = cols[ci].substr(slash + 1);
      for (int64_t row = 0; row < t.num_rows; ++row) {
        auto it = pos.find(static_cast<int64_t>(numeric_value(ep, ep.is_list ? ep.offsets[row] : row)));
        if (it == pos.end()) continue;
        if (c.is_list && !c.row_valid.empty() && !c.row_valid[row]) continue;
        const int64_t b = c.is_list ? c.offsets[row] : row, e = c.is_list ? c.offsets[row + 1] : row + 1;
        if (e <= b) continue;
        std::vector<double> v;
        for (int64_t i = b; i < e; ++i) v.push_back(numeric_value(c, i));
        auto& fs_ = out[it->second][key];
        fs_.shapes[stat] = shape_for(m, key, stat, v.size());
        fs_.values[stat] = std::move(v);
      }
    }
  }
}

void load_v2(const DatasetMeta& m, const std::map<int64_t, size_t>& pos, std::vector<DatasetStats>& out) {
  const fs::path p = m.root / "meta/episodes_stats.jsonl";
  if (!regular_file_exists(p)) return;
  int64_t line = 0;
  for (const auto& j : read_jsonl(p)) {
    ++line;
    if (!j.contains("episode_index") || !j["episode_index"].is_number_integer() || !j.contains("stats")) continue;
    auto it = pos.find(j["episode_index"].get<int64_t>());
    if (it != pos.end()) out[it->second] = stats_from_json(j["stats"], cat(p.string(), " line ", line));
  }
}

}  // namespace

std::vector<DatasetStats> load_episode_stats(const DatasetMeta& meta) {
  std::vector<DatasetStats> out(meta.episodes.size());
  std::map<int64_t, size_t> pos;
  for (size_t i = 0; i < meta.episodes.size(); ++i) pos[meta.episodes[i].index] = i;
  if (util::starts_with(meta.codebase_version, "v2")) load_v2(meta, pos, out);
  else load_v3(meta, pos, out);
  return out;
}

}  // namespace robotrain::dataset
