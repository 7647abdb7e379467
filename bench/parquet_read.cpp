// bench-area: dataset
// Reads a LeRobot-like data file (index/frame_index/episode_index/task_index int64, timestamp
// float, observation.state and action list<float>[14]) written by our writer, whole and
// projected. Baseline measured in the same run: reading the file's raw bytes and copying them.
// Prints one JSON line per measurement. Usage: bench_parquet_read [rows=200000] [reps=5]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "dataset/parquet/parquet.h"
#include "util/fs.h"
#include "util/json.h"

using namespace robotrain;
using namespace robotrain::dataset::parquet;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

template <class Fn>
double best_of(int reps, Fn&& fn) {
  double best = 1e30;
  for (int i = 0; i < reps; ++i) {
    double t0 = now_s();
    fn();
    best = std::min(best, now_s() - t0);
  }
  return best;
}

Table lerobot_table(int64_t rows) {
  Table t;
  t.num_rows = rows;
  auto scalar = [](const char* n, ValueType ty) {
    Column c;
    c.name = n;
    c.type = ty;
    return c;
  };
  Column index = scalar("index", ValueType::Int64), frame = scalar("frame_index", ValueType::Int64),
         episode = scalar("episode_index", ValueType::Int64), task = scalar("task_index", ValueType::Int64),
         ts = scalar("timestamp", ValueType::Float);
  Column state = scalar("observation.state", ValueType::Float), action = scalar("action", ValueType::Float);
  state.is_list = action.is_list = true;
  state.offsets = action.offsets = {0};
  std::mt19937 rng(0);
  std::normal_distribution<float> noise(0, 0.01f);
  float joint[14] = {};
  for (int64_t r = 0; r < rows; ++r) {
    int64_t f = r % 400;
    index.ints.push_back(r);
    frame.ints.push_back(f);
    episode.ints.push_back(r / 400);
    task.ints.push_back((r / 400) % 3);
    ts.floats.push_back(static_cast<float>(f) / 50.f);
    for (int k = 0; k < 14; ++k) {
      joint[k] += noise(rng);
      state.floats.push_back(joint[k]);
      action.floats.push_back(joint[k] + noise(rng));
    }
    state.offsets.push_back(state.offsets.back() + 14);
    action.offsets.push_back(action.offsets.back() + 14);
  }
  t.columns = {index, frame, episode, task, ts, state, action};
  return t;
}

size_t decoded_bytes(const Table& t) {
  size_t n = 0;
  for (const auto& c : t.columns)
    n += c.ints.size() * 8 + c.floats.size() * 4 + c.doubles.size() * 8 + c.offsets.size() * 8;
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t rows = argc > 1 ? std::stoll(argv[1]) : 200000;
  const int reps = argc > 2 ? std::stoi(argv[2]) : 5;
  util::TempDir dir("bench-parquet");
  Table table = lerobot_table(rows);

  for (Compression comp : {Compression::Snappy, Compression::Zstd, Compression::Uncompressed}) {
    const char* cname = comp == Compression::Snappy ? "snappy" : comp == Compression::Zstd ? "zstd" : "none";
    auto path = dir.path() / (std::string("data_") + cname + ".parquet");
    WriteOptions o;
    o.compression = comp;
    double write_s = best_of(1, [&] { write_table(path, table, o); });
    const size_t file_bytes = std::filesystem::file_size(path);

    // Baseline: the file's bytes from the page cache into memory, plus one memcpy of them.
    std::string sink;
    double raw_s = best_of(reps, [&] {
      std::string bytes = util::read_file(path);
      sink.resize(bytes.size());
      std::memcpy(sink.data(), bytes.data(), bytes.size());
    });

    Table got;
    double read_s = best_of(reps, [&] { got = read_table(path); });
    if (got.column("action").floats != table.column("action").floats) {
      std::fprintf(stderr, "bench_parquet_read: read back differs\n");
      return 1;
    }
    const size_t out_bytes = decoded_bytes(got);
    Table proj;
    double proj_s = best_of(reps, [&] { proj = read_table(path, {"action"}); });

    util::Json j;
    j["bench"] = "parquet_read";
    j["compression"] = cname;
    j["rows"] = rows;
    j["file_mb"] = file_bytes / 1e6;
    j["decoded_mb"] = out_bytes / 1e6;
    j["write_s"] = write_s;
    j["read_s"] = read_s;
    j["rows_per_s"] = rows / read_s;
    j["decoded_mb_per_s"] = out_bytes / 1e6 / read_s;
    j["file_mb_per_s"] = file_bytes / 1e6 / read_s;
    j["projected_action_read_s"] = proj_s;
    j["baseline_raw_read_copy_s"] = raw_s;
    j["baseline_raw_mb_per_s"] = file_bytes / 1e6 / raw_s;
    j["read_vs_raw_time_ratio"] = read_s / raw_s;
    std::printf("%s\n", j.dump().c_str());
  }
  return 0;
}
