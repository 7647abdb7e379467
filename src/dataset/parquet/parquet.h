#pragma once
// Our own Parquet subset: what pyarrow, pandas, HF datasets and DuckDB write for LeRobot.
// Apache Arrow is not packaged on Debian, so this is the project's reader/writer.
//
// Model: a Table is a list of top-level Columns. A column holds scalars or one-level lists
// (LIST / LARGE_LIST / FIXED_SIZE_LIST all read as lists) of one value type; nested lists are
// read flattened (all innermost values of a row, in order). Struct columns
// (e.g. LeRobot's image struct<bytes, path>) are exposed leaf by leaf as "<name>.<field>".
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace robotrain::dataset::parquet {

enum class ValueType : uint8_t { Int32, Int64, Float, Double, Bool, String, Binary };

const char* value_type_name(ValueType t);

struct Column {
  std::string name;
  ValueType type = ValueType::Int64;
  bool is_list = false;
  // Exactly one of the value vectors is used, chosen by `type`:
  //   Int32/Int64/Bool -> ints; Float -> floats; Double -> doubles; String/Binary -> strings.
  std::vector<int64_t> ints;
  std::vector<float> floats;
  std::vector<double> doubles;
  std::vector<std::string> strings;
  // Validity per value (1 = present). Empty means "no nulls".
  std::vector<uint8_t> valid;
  // Lists only: row r holds values [offsets[r], offsets[r+1]); offsets.size() == rows + 1.
  std::vector<int64_t> offsets;
  // Lists only: 0 where the list itself is null. Empty means "no null lists".
  std::vector<uint8_t> row_valid;

  int64_t num_rows() const;
  int64_t num_values() const;
  bool is_null(int64_t value_index) const { return !valid.empty() && !valid[value_index]; }
};

struct Table {
  std::vector<Column> columns;
  int64_t num_rows = 0;

  bool has(const std::string& name) const;
  // Throws RuntimeError naming the column and the columns that exist.
  const Column& column(const std::string& name) const;
  Column& column(const std::string& name);
};

struct ColumnInfo {
  std::string name;  // top-level name (struct leaves: "<name>.<field>")
  ValueType type;
  bool is_list;
};

struct FileInfo {
  int64_t num_rows = 0;
  int num_row_groups = 0;
  std::vector<ColumnInfo> columns;
  std::map<std::string, std::string> key_value_metadata;  // e.g. "ARROW:schema", "huggingface"
  // Leaves that cannot be read (maps, lists of structs, INT96...): name -> why. They are not in
  // `columns`, read() skips them, and asking for one by name is an error.
  std::map<std::string, std::string> unsupported_columns;
};

// Reads the footer once; reads column chunks on demand. Errors (corrupt, truncated,
// unsupported encoding) are util::RuntimeError naming the file, column and row group.
// read()/read_row_group() only pread() the file, so one Reader may serve several threads.
class Reader {
 public:
  explicit Reader(const std::filesystem::path& path);
  ~Reader();
  Reader(Reader&&) noexcept;
  Reader& operator=(Reader&&) noexcept;

  const FileInfo& info() const;
  // Empty `columns` = all columns. Only the requested column chunks are read from disk.
  Table read(const std::vector<std::string>& columns = {}) const;
  Table read_row_group(int row_group, const std::vector<std::string>& columns = {}) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Convenience: open + read.
Table read_table(const std::filesystem::path& path, const std::vector<std::string>& columns = {});

enum class Compression : uint8_t { Uncompressed, Snappy, Zstd, Gzip, Lz4Raw, Brotli };

struct WriteOptions {
  Compression compression = Compression::Snappy;
  bool dictionary = true;             // used per column chunk only where it makes it smaller
  int64_t row_group_rows = 1 << 20;   // rows per row group
  std::map<std::string, std::string> key_value_metadata;
  // List columns to write as nested lists of this fixed shape (e.g. {3, 1, 1} for LeRobot's
  // per-episode image stats); every non-null row holds the product of the shape values.
  // The reader returns such columns flattened, as one list per row.
  std::map<std::string, std::vector<int64_t>> list_shapes;
  // Struct columns to write: the table's scalar columns "<name>.<field>" become the fields of
  // struct <name> (e.g. LeRobot's image struct<bytes: binary, path: string>), read back as
  // the same "<name>.<field>" columns.
  std::vector<std::string> struct_columns;
};

// Writes atomically (temp name + rename). Files are readable by DuckDB and pyarrow.
void write_table(const std::filesystem::path& path, const Table& table, const WriteOptions& options = {});

}  // namespace robotrain::dataset::parquet
