// Corrupt and truncated files must end in util::RuntimeError (naming the file) or a valid
// read, never a crash, another exception type or a runaway allocation.
#include <gtest/gtest.h>

#include <fstream>
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

// Reads everything; returns false on RuntimeError (which must name the file).
bool try_read(const std::filesystem::path& p) {
  try {
    Reader r(p);
    Table t = r.read();
    for (int g = 0; g < r.info().num_row_groups; ++g) r.read_row_group(g, {});
    return true;
  } catch (const util::RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find(p.filename().string()), std::string::npos) << e.what();
    return false;
  }
}

void fuzz(Compression c, uint32_t seed, int iterations) {
  util::TempDir dir;
  WriteOptions o;
  o.compression = c;
  o.row_group_rows = 150;
  auto good = dir.path() / "good.parquet";
  write_table(good, fuzz_table(), o);
  const std::string bytes = util::read_file(good);
  ASSERT_TRUE(try_read(good));
  std::mt19937 rng(seed);
  int failures = 0;
  for (int i = 0; i < iterations; ++i) {
    std::string bad = bytes;
    switch (rng() % 3) {
      case 0: bad.resize(rng() % bad.size()); break;  // truncation
      case 1:  // flip a few bytes anywhere
        for (int k = 0, n = 1 + rng() % 4; k < n; ++k) bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
        break;
      default: {  // flip bytes in the footer, where sizes and offsets live
        size_t footer = std::min<size_t>(bad.size(), 600);
        for (int k = 0, n = 1 + rng() % 3; k < n; ++k)
          bad[bad.size() - 1 - rng() % footer] ^= static_cast<char>(1 + rng() % 255);
      }
    }
    auto p = dir.path() / "bad.parquet";
    std::ofstream(p, std::ios::binary | std::ios::trunc).write(bad.data(), static_cast<std::streamsize>(bad.size()));
    try {
      failures += !try_read(p);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "iteration " << i << ": unexpected exception type: " << e.what();
    }
  }
  EXPECT_GT(failures, iterations / 4);  // the corruption was actually noticed most of the time
}

TEST(ParquetFuzz, UncompressedTruncationsAndByteFlips) { fuzz(Compression::Uncompressed, 1234, 300); }
TEST(ParquetFuzz, SnappyTruncationsAndByteFlips) { fuzz(Compression::Snappy, 99, 200); }
TEST(ParquetFuzz, ZstdTruncationsAndByteFlips) { fuzz(Compression::Zstd, 7, 150); }

}  // namespace
}  // namespace robotrain::dataset::parquet
