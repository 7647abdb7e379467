#pragma once
// Helpers shared by the Parquet tests: building columns and turning them into JSON rows
// (the form DuckDB's and pyarrow's dumps use) so that values compare one by one.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "dataset/parquet/parquet.h"
#include "util/error.h"
#include "util/json.h"

namespace robotrain::dataset::parquet::testing {

inline std::string hex(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}

// One value as JSON: numbers, strings; binary as lowercase hex; null for nulls.
inline util::Json value_json(const Column& c, int64_t i) {
  if (c.is_null(i)) return nullptr;
  switch (c.type) {
    case ValueType::Float: return static_cast<double>(c.floats[i]);
    case ValueType::Double: return c.doubles[i];
    case ValueType::String: return c.strings[i];
    case ValueType::Binary: return hex(c.strings[i]);
    case ValueType::Bool: return c.ints[i] != 0;
    default: return c.ints[i];
  }
}

inline util::Json row_json(const Column& c, int64_t r) {
  if (!c.is_list) return value_json(c, r);
  if (!c.row_valid.empty() && !c.row_valid[r]) return nullptr;
  util::Json a = util::Json::array();
  for (int64_t i = c.offsets[r]; i < c.offsets[r + 1]; ++i) a.push_back(value_json(c, i));
  return a;
}

// Compares JSON values; floats within a relative tolerance (JSON round trips of doubles).
inline bool json_equal(const util::Json& a, const util::Json& b, bool float32) {
  // DuckDB's JSON rows carry BIGINTs as strings.
  if (a.is_number_integer() && b.is_string()) return std::to_string(a.get<int64_t>()) == b.get<std::string>();
  if (a.is_string() && b.is_number_integer()) return json_equal(b, a, float32);
  if (a.is_number() && b.is_number()) {
    double x = a.get<double>(), y = b.get<double>();
    if (std::isnan(x) || std::isnan(y)) return std::isnan(x) && std::isnan(y);
    if (float32) return static_cast<float>(x) == static_cast<float>(y);
    return x == y || std::fabs(x - y) <= 1e-12 * std::max(std::fabs(x), std::fabs(y));
  }
  if (a.is_array() && b.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (!json_equal(a[i], b[i], float32)) return false;
    return true;
  }
  return a == b;
}

// Every codec our writer has: the cross-checks write one file with each.
inline const std::vector<Compression>& every_codec() {
  static const std::vector<Compression> all = {Compression::Uncompressed, Compression::Snappy, Compression::Zstd,
                                               Compression::Gzip,         Compression::Lz4Raw, Compression::Brotli};
  return all;
}

// Our reader flattens nested lists; flatten a peer's nested arrays the same way (null or
// empty inner lists vanish, null values at the innermost level stay).
inline void flatten_into(const util::Json& v, int depth, util::Json& out) {
  if (depth == 0) {
    out.push_back(v);
    return;
  }
  if (v.is_null()) return;
  for (const auto& e : v) flatten_into(e, depth - 1, out);
}

inline util::Json flattened(const util::Json& v, int list_depth) {
  if (list_depth < 2 || v.is_null()) return v;
  util::Json out = util::Json::array();
  flatten_into(v, list_depth, out);
  return out;
}

// What a peer's dump says of one column, in our terms: the value type of its leaf and how
// deeply its lists nest (0: not a list).
struct PeerColumn {
  ValueType type;
  int list_depth;
};
using DescribePeerColumn = std::function<PeerColumn(const util::Json& dump_column)>;

// Every column and value of `t` against a peer's dump {columns: [{name, ...}], rows: [...]};
// `describe` reads the peer's own words for a column's type.
inline void expect_matches_dump(const Table& t, const util::Json& dump, const std::string& label,
                                const std::string& peer, const DescribePeerColumn& describe) {
  const auto& cols = dump["columns"];
  ASSERT_EQ(t.columns.size(), cols.size()) << label;
  ASSERT_EQ(t.num_rows, static_cast<int64_t>(dump["rows"].size())) << label;
  for (size_t c = 0; c < cols.size(); ++c) {
    const Column& col = t.columns[c];
    const std::string name = cols[c]["name"];
    const PeerColumn want_col = describe(cols[c]);
    ASSERT_EQ(col.name, name) << label;
    EXPECT_EQ(col.type, want_col.type) << label << " " << name;
    EXPECT_EQ(col.is_list, want_col.list_depth > 0) << label << " " << name;
    ASSERT_EQ(col.num_rows(), t.num_rows) << label << " " << name;
    for (int64_t r = 0; r < t.num_rows; ++r) {
      const util::Json want = flattened(dump["rows"][r][name], want_col.list_depth);
      const util::Json got = row_json(col, r);
      if (!json_equal(got, want, col.type == ValueType::Float)) {
        ADD_FAILURE() << label << " column " << name << " row " << r << ": " << peer << " " << want.dump()
                      << ", ours " << got.dump();
        break;
      }
    }
  }
}

// Expects two columns to hold the same rows (nulls compare equal regardless of filler values).
inline void expect_same_column(const Column& want, const Column& got) {
  ASSERT_EQ(want.name, got.name);
  EXPECT_EQ(want.type, got.type) << want.name;
  EXPECT_EQ(want.is_list, got.is_list) << want.name;
  ASSERT_EQ(want.num_rows(), got.num_rows()) << want.name;
  for (int64_t r = 0; r < want.num_rows(); ++r) {
    util::Json a = row_json(want, r), b = row_json(got, r);
    if (!json_equal(a, b, want.type == ValueType::Float)) {
      ADD_FAILURE() << want.name << " row " << r << ": want " << a.dump() << " got " << b.dump();
      return;
    }
  }
}

inline Column scalar_column(const std::string& name, ValueType t) {
  Column c;
  c.name = name;
  c.type = t;
  return c;
}

inline Column list_column(const std::string& name, ValueType t) {
  Column c = scalar_column(name, t);
  c.is_list = true;
  c.offsets.push_back(0);
  return c;
}

// Reads everything; returns false on RuntimeError (which must name the file).
inline bool try_read(const std::filesystem::path& p) {
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

// Random truncations and byte flips of a valid file: each must read or fail with
// RuntimeError, never crash or throw anything else. Returns how many failed cleanly.
inline int fuzz_file(const std::string& bytes, const std::filesystem::path& dir, uint32_t seed, int iterations) {
  std::mt19937 rng(seed);
  int failures = 0;
  auto p = dir / "fuzzed.parquet";
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
    std::ofstream(p, std::ios::binary | std::ios::trunc).write(bad.data(), static_cast<std::streamsize>(bad.size()));
    try {
      failures += !try_read(p);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "iteration " << i << ": unexpected exception type: " << e.what();
    }
  }
  return failures;
}

}  // namespace robotrain::dataset::parquet::testing
