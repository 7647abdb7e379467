#pragma once
// meta/tasks.parquet as LeRobot v3.0 writes it with pandas (task_index, task). The dataset
// writer and dataset merge both write it.
#include <filesystem>
#include <string>
#include <vector>

namespace robotrain::dataset {

// tasks[i] gets task_index i. The pandas metadata makes "task" the frame's index again, as
// LeRobot looks tasks up by their string.
void write_tasks_parquet(const std::filesystem::path& path, const std::vector<std::string>& tasks);

}  // namespace robotrain::dataset
