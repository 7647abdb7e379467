// Corrupt and truncated files must end in util::RuntimeError (naming the file) or a valid
// read, never a crash, another exception type or a runaway allocation.
#include <gtest/gtest.h>

#include <random>

#include "dataset/parquet/parquet.h"
#include "parquet_test_util.h"
#include "util/error.h"
#include "util/fs.h"

namespace robotrain::dataset::parquet {
namespace {

Table fuzz_table() {
  Table t;
  t.num_rows = 400;
  Column id = testing::scalar_column("id", ValueType::Int64), name = testing::scalar_column("name", ValueType::String),
         flag = testing::scalar_column("flag", ValueType::Bool), x = testing::scalar_column("x", ValueType::Double),
         task = testing::scalar_column("task", ValueType::String);
  Column st = testing::list_column("state", ValueType::Float), tags = testing::list_column("tags", ValueType::String);
  for (int64_t r = 0; r < t.num_rows; ++r) {
    id.ints.push_back(r * 3);
    name.strings.push_back("n" + std::to_string(r));
    name.valid.push_back(r % 5 != 0);
    flag.ints.push_back(r & 1);
    x.doubles.push_back(r * 0.5);
    task.strings.push_back(r % 3 ? "a" : "b");
    for (int k = 0; k < 3; ++k) st.floats.push_back(r + k);
    st.offsets.push_back(st.offsets.back() + 3);
    int n = static_cast<int>(r % 3);
    for (int k = 0; k < n; ++k) tags.strings.push_back("t" + std::to_string(k));
    tags.offsets.push_back(tags.offsets.back() + n);
  }
  t.columns = {id, name, flag, x, task, st, tags};
  return t;
}

void fuzz(Compression c, uint32_t seed, int iterations) {
  util::TempDir dir;
  WriteOptions o;
  o.compression = c;
  o.row_group_rows = 150;
  auto good = dir.path() / "good.parquet";
  write_table(good, fuzz_table(), o);
  int failures = testing::fuzz_file(util::read_file(good), dir.path(), seed, iterations);
  EXPECT_GT(failures, iterations / 4);  // the corruption was actually noticed most of the time
}

TEST(ParquetFuzz, UncompressedTruncationsAndByteFlips) { fuzz(Compression::Uncompressed, 1234, 300); }
TEST(ParquetFuzz, SnappyTruncationsAndByteFlips) { fuzz(Compression::Snappy, 99, 200); }
TEST(ParquetFuzz, ZstdTruncationsAndByteFlips) { fuzz(Compression::Zstd, 7, 150); }

}  // namespace
}  // namespace robotrain::dataset::parquet
