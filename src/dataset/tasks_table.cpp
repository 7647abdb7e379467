#include "dataset/tasks_table.h"

#include "dataset/parquet/parquet.h"
#include "util/json.h"

namespace robotrain::dataset {

void write_tasks_parquet(const std::filesystem::path& path, const std::vector<std::string>& tasks) {
  parquet::Table t;
  t.num_rows = static_cast<int64_t>(tasks.size());
  parquet::Column index, task;
  index.name = "task_index";
  index.type = parquet::ValueType::Int64;
  task.name = "task";
  task.type = parquet::ValueType::String;
  for (size_t i = 0; i < tasks.size(); ++i) {
    index.ints.push_back(static_cast<int64_t>(i));
    task.strings.push_back(tasks[i]);
  }
  t.columns = {index, task};
  parquet::WriteOptions w;
  w.key_value_metadata["pandas"] = util::Json{
      {"index_columns", {"task"}},
      {"column_indexes", {{{"name", nullptr}, {"field_name", nullptr}, {"pandas_type", "unicode"}, {"numpy_type", "object"},
                           {"metadata", {{"encoding", "UTF-8"}}}}}},
      {"columns", {{{"name", "task_index"}, {"field_name", "task_index"}, {"pandas_type", "int64"}, {"numpy_type", "int64"},
                    {"metadata", nullptr}},
                   {{"name", "task"}, {"field_name", "task"}, {"pandas_type", "unicode"}, {"numpy_type", "object"},
                    {"metadata", nullptr}}}},
      {"creator", {{"library", "robotrain"}, {"version", "0.1"}}},
      {"pandas_version", "2.2.3"}}.dump();
  parquet::write_table(path, t, w);
}

}  // namespace robotrain::dataset
