#pragma once
// Maps a Parquet schema (a flattened tree) onto robotrain's model: one exposed column per
// primitive leaf, named by its top-level field ("<struct>.<field>" inside structs), scalar or
// a list. Nested lists (LeRobot's per-episode image stats, shape 3x1x1) are flattened: a row
// holds all innermost values in order. Leaves we cannot represent (maps, lists of structs, INT96)
// are kept with a reason so that asking for them gives a clear error, while the rest of the
// file stays readable.
#include <cstdint>
#include <string>
#include <vector>

#include "dataset/parquet/metadata.h"
#include "dataset/parquet/parquet.h"

namespace robotrain::dataset::parquet {

struct Leaf {
  std::string name;               // exposed column name
  std::vector<std::string> path;  // path_in_schema
  int chunk_index = 0;            // position among the row group's column chunks
  int32_t physical = 0;           // format::PhysicalType
  int32_t type_length = 0;        // FIXED_LEN_BYTE_ARRAY width
  ValueType type = ValueType::Int64;
  bool is_list = false;
  bool unsigned_int = false;      // UINT_32 stored in INT32: read as unsigned
  int max_def = 0;
  int max_rep = 0;
  int list_def = 0;               // lists: definition level at which a value slot exists
  int row_def = 0;                // lists: definition level at which the row's list is not null
  std::string unsupported;        // non-empty: why this leaf cannot be read
};

// Throws std::runtime_error on a malformed schema.
std::vector<Leaf> build_leaves(const std::vector<format::SchemaElement>& schema);

}  // namespace robotrain::dataset::parquet
