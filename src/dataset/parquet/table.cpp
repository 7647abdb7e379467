#include <string>

#include "dataset/parquet/parquet.h"
#include "util/error.h"
#include "util/strings.h"

namespace robotrain::dataset::parquet {

const char* value_type_name(ValueType t) {
  switch (t) {
    case ValueType::Int32: return "int32";
    case ValueType::Int64: return "int64";
    case ValueType::Float: return "float";
    case ValueType::Double: return "double";
    case ValueType::Bool: return "bool";
    case ValueType::String: return "string";
    case ValueType::Binary: return "binary";
  }
  return "unknown";
}

int64_t Column::num_values() const {
  switch (type) {
    case ValueType::Float: return static_cast<int64_t>(floats.size());
    case ValueType::Double: return static_cast<int64_t>(doubles.size());
    case ValueType::String:
    case ValueType::Binary: return static_cast<int64_t>(strings.size());
    default: return static_cast<int64_t>(ints.size());
  }
}

int64_t Column::num_rows() const {
  if (!is_list) return num_values();
  return offsets.empty() ? 0 : static_cast<int64_t>(offsets.size()) - 1;
}

bool Table::has(const std::string& name) const {
  for (const auto& c : columns)
    if (c.name == name) return true;
  return false;
}

const Column& Table::column(const std::string& name) const {
  for (const auto& c : columns)
    if (c.name == name) return c;
  std::vector<std::string> names;
  for (const auto& c : columns) names.push_back(c.name);
  throw util::RuntimeError(util::cat("no column '", name, "' in table (columns: ", util::join(names, ", "), ")"));
}

Column& Table::column(const std::string& name) {
  return const_cast<Column&>(static_cast<const Table*>(this)->column(name));
}

}  // namespace robotrain::dataset::parquet
