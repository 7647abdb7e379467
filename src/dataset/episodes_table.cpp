#include "dataset/episodes_table.h"

#include <cmath>

#include "util/error.h"
#include "util/strings.h"

namespace robotrain::dataset {

using parquet::ValueType;

parquet::Table episodes_table(const std::vector<EpisodeRecord>& eps, const std::vector<std::string>& video_keys,
                              const std::vector<std::pair<std::string, std::string>>& stat_columns) {
  parquet::Table t;
  t.num_rows = static_cast<int64_t>(eps.size());
  auto ints = [&](const std::string& name, auto get) {
    parquet::Column c;
    c.name = name;
    c.type = ValueType::Int64;
    for (const auto& e : eps) c.ints.push_back(get(e));
    t.columns.push_back(std::move(c));
  };
  auto doubles = [&](const std::string& name, auto get) {
    parquet::Column c;
    c.name = name;
    c.type = ValueType::Double;
    for (const auto& e : eps) c.doubles.push_back(get(e));
    t.columns.push_back(std::move(c));
  };
  ints("episode_index", [](const EpisodeRecord& e) { return e.index; });
  parquet::Column tasks;
  tasks.name = "tasks";
  tasks.type = ValueType::String;
  tasks.is_list = true;
  tasks.offsets = {0};
  for (const auto& e : eps) {
    for (const auto& s : e.tasks) tasks.strings.push_back(s);
    tasks.offsets.push_back(static_cast<int64_t>(tasks.strings.size()));
  }
  t.columns.push_back(std::move(tasks));
  ints("length", [](const EpisodeRecord& e) { return e.length; });
  ints("data/chunk_index", [](const EpisodeRecord& e) { return e.data_chunk; });
  ints("data/file_index", [](const EpisodeRecord& e) { return e.data_file; });
  ints("dataset_from_index", [](const EpisodeRecord& e) { return e.from; });
  ints("dataset_to_index", [](const EpisodeRecord& e) { return e.to; });
  for (const auto& k : video_keys) {
    const std::string p = "videos/" + k + "/";
    ints(p + "chunk_index", [&](const EpisodeRecord& e) { return e.videos.at(k).chunk; });
    ints(p + "file_index", [&](const EpisodeRecord& e) { return e.videos.at(k).file; });
    doubles(p + "from_timestamp", [&](const EpisodeRecord& e) { return e.videos.at(k).from; });
    doubles(p + "to_timestamp", [&](const EpisodeRecord& e) { return e.videos.at(k).to; });
  }
  for (const auto& [key, stat] : stat_columns) {
    parquet::Column c;
    c.name = util::cat("stats/", key, "/", stat);
    const bool count = stat == "count";
    c.type = count ? ValueType::Int64 : ValueType::Double;
    c.is_list = true;
    c.offsets = {0};
    for (const auto& e : eps) {
      auto it = e.stats.find(key);
      if (it != e.stats.end() && it->second.values.count(stat))
        for (double v : it->second.values.at(stat)) {
          if (count) c.ints.push_back(static_cast<int64_t>(std::llround(v)));
          else c.doubles.push_back(v);
        }
      c.offsets.push_back(c.num_values());
    }
    t.columns.push_back(std::move(c));
  }
  // One metadata file: every episode's row lives in meta/episodes/chunk-000/file-000.
  ints("meta/episodes/chunk_index", [](const EpisodeRecord&) { return int64_t{0}; });
  ints("meta/episodes/file_index", [](const EpisodeRecord&) { return int64_t{0}; });
  return t;
}

double numeric_value(const parquet::Column& c, int64_t i) {
  switch (c.type) {
    case ValueType::Float: return c.floats.at(i);
    case ValueType::Double: return c.doubles.at(i);
    case ValueType::Int32:
    case ValueType::Int64:
    case ValueType::Bool: return static_cast<double>(c.ints.at(i));
    default: throw util::RuntimeError(util::cat("column '", c.name, "' is not numeric"));
  }
}

}  // namespace robotrain::dataset
