#include "dataset/parquet/schema.h"

#include <stdexcept>

namespace robotrain::dataset::parquet {

namespace {

using namespace format;

struct Node {
  const SchemaElement* e = nullptr;
  std::vector<Node> children;
  bool primitive() const { return e->num_children == 0 && e->type.has_value(); }
  int32_t repetition() const { return e->repetition.value_or(REQUIRED); }
  bool is_list_annotated() const {
    return e->logical == LT_LIST || (e->converted_type && *e->converted_type == CT_LIST);
  }
  bool is_map_annotated() const {
    return e->logical == LT_MAP ||
           (e->converted_type && (*e->converted_type == CT_MAP || *e->converted_type == CT_MAP_KEY_VALUE));
  }
};

Node build_tree(const std::vector<SchemaElement>& s, size_t& idx, int depth) {
  if (depth > 32) throw std::runtime_error("schema nests too deeply");
  if (idx >= s.size()) throw std::runtime_error("schema truncated");
  Node n;
  n.e = &s[idx++];
  if (n.e->num_children < 0 || static_cast<size_t>(n.e->num_children) > s.size() - idx)
    throw std::runtime_error("schema element '" + n.e->name + "' has an invalid child count");
  if (n.e->num_children == 0 && !n.e->type && depth > 0)
    throw std::runtime_error("schema element '" + n.e->name + "' has neither type nor children");
  for (int i = 0; i < n.e->num_children; ++i) n.children.push_back(build_tree(s, idx, depth + 1));
  return n;
}

struct Walker {
  std::vector<Leaf> leaves;
  int next_chunk = 0;

  static ValueType value_type(const SchemaElement& e, bool& unsigned_int, std::string& unsupported) {
    int32_t ct = e.converted_type.value_or(-1);
    // Reading these as their physical type would give wrong numbers, not an error.
    if (e.logical == LT_DECIMAL || ct == CT_DECIMAL) unsupported = "DECIMAL is not supported";
    if (e.logical == LT_FLOAT16) unsupported = "FLOAT16 is not supported";
    if (*e.type == INT64 && (ct == CT_UINT_64 || (e.logical == LT_INTEGER && !e.logical_int_signed)))
      unsupported = "UINT64 is not supported (values above 2^63 do not fit int64)";
    switch (*e.type) {
      case BOOLEAN: return ValueType::Bool;
      case INT32:
        if (ct == CT_UINT_32 || (e.logical == LT_INTEGER && !e.logical_int_signed && e.logical_int_bits == 32)) {
          unsigned_int = true;
          return ValueType::Int64;
        }
        return ValueType::Int32;
      case INT64: return ValueType::Int64;
      case FLOAT: return ValueType::Float;
      case DOUBLE: return ValueType::Double;
      case BYTE_ARRAY:
        if (e.logical == LT_STRING || e.logical == LT_ENUM || e.logical == LT_JSON || ct == CT_UTF8 ||
            ct == CT_ENUM || ct == CT_JSON)
          return ValueType::String;
        return ValueType::Binary;
      case FIXED_LEN_BYTE_ARRAY:
        if (e.type_length < 0) unsupported = "negative fixed length";
        return ValueType::Binary;
      case INT96: unsupported = "INT96 (legacy timestamps) is not supported"; return ValueType::Int64;
      default: unsupported = "unknown physical type " + std::to_string(*e.type); return ValueType::Int64;
    }
  }

  void add_leaf(const Node& n, const std::string& name, const std::vector<std::string>& path, int def, int rep,
                bool is_list, int list_def, int row_def, std::string unsupported) {
    Leaf l;
    l.name = name;
    l.path = path;
    l.chunk_index = next_chunk++;
    l.physical = *n.e->type;
    l.type_length = n.e->type_length;
    std::string why;
    l.type = value_type(*n.e, l.unsigned_int, why);
    if (unsupported.empty()) unsupported = why;
    l.is_list = is_list;
    l.max_def = def;
    l.max_rep = rep;
    l.list_def = list_def;
    l.row_def = row_def;
    if (def > 250 || rep > 250) unsupported = "nesting too deep";
    l.unsupported = std::move(unsupported);
    leaves.push_back(std::move(l));
  }

  // Every leaf under `n` becomes an unsupported column (they still occupy chunk slots).
  void unsupported_subtree(const Node& n, const std::string& name, std::vector<std::string> path, const std::string& why) {
    path.push_back(n.e->name);
    if (n.primitive()) {
      add_leaf(n, name, path, 0, 0, false, 0, 0, why);
      return;
    }
    for (const auto& c : n.children) unsupported_subtree(c, name + "." + c.e->name, path, why);
  }

  void walk(const Node& n, const std::string& prefix, std::vector<std::string> path, int def, int rep) {
    const std::string name = prefix.empty() ? n.e->name : prefix + "." + n.e->name;
    path.push_back(n.e->name);
    const int d = def + (n.repetition() != REQUIRED ? 1 : 0);
    const int r = rep + (n.repetition() == REPEATED ? 1 : 0);
    if (n.primitive()) {
      // A bare repeated primitive is the legacy form of a list of required values.
      bool is_list = n.repetition() == REPEATED;
      if (is_list && r > 1) {
        unsupported_subtree(n, name, {}, "repeated fields inside lists are not supported");
        return;
      }
      add_leaf(n, name, path, d, r, is_list, is_list ? d : 0, is_list ? d - 1 : 0, "");
      return;
    }
    if (n.is_list_annotated() && n.children.size() == 1 && n.children[0].repetition() == REPEATED) {
      walk_list(n, name, path, d, r);
      return;
    }
    if (n.is_map_annotated()) {
      path.pop_back();
      unsupported_subtree(n, name, path, "maps are not supported");
      return;
    }
    if (n.repetition() == REPEATED) {
      path.pop_back();
      unsupported_subtree(n, name, path, "repeated groups (lists of structs) are not supported");
      return;
    }
    for (const auto& c : n.children) walk(c, name, path, d, r);  // struct: leaves "<name>.<field>"
  }

  // `list` is a LIST-annotated group with one repeated child. Inner LIST groups (nested
  // lists) are followed down to the primitive and flattened into one list per row.
  void walk_list(const Node& list, const std::string& name, std::vector<std::string> path, int d, int r,
                 int row_def = -1) {
    if (r > 0 && row_def < 0) {  // a list below another repeated field that is not a LIST chain
      path.pop_back();
      unsupported_subtree(list, name, path, "lists inside repeated groups are not supported");
      return;
    }
    if (row_def < 0) row_def = d;  // the outer list exists once the list group is defined
    const Node& rep_node = list.children[0];
    path.push_back(rep_node.e->name);
    const int d_rep = d + 1, r_rep = r + 1;
    if (rep_node.primitive()) {  // 2-level legacy list: the repeated field is the element
      add_leaf(rep_node, name, path, d_rep, r_rep, true, d_rep, row_def, "");
      return;
    }
    // 3-level list unless the repeated group itself is the element (backward-compatibility rules).
    bool group_is_element = rep_node.children.size() != 1 || rep_node.e->name == "array" ||
                            rep_node.e->name == list.e->name + "_tuple";
    if (group_is_element) {
      path.pop_back();
      unsupported_subtree(rep_node, name, path, "lists of structs are not supported");
      return;
    }
    const Node& elem = rep_node.children[0];
    const int d_elem = d_rep + (elem.repetition() != REQUIRED ? 1 : 0);
    if (!elem.primitive()) {
      if (elem.is_list_annotated() && elem.children.size() == 1 && elem.children[0].repetition() == REPEATED &&
          elem.repetition() != REPEATED) {
        path.push_back(elem.e->name);
        walk_list(elem, name, path, d_elem, r_rep, row_def);  // nested list: flatten
        return;
      }
      unsupported_subtree(elem, name, path, "lists of structs or maps are not supported");
      return;
    }
    if (elem.repetition() == REPEATED) {
      unsupported_subtree(elem, name, path, "repeated list elements are not supported");
      return;
    }
    path.push_back(elem.e->name);
    add_leaf(elem, name, path, d_elem, r_rep, true, d_rep, row_def, "");
  }
};

}  // namespace

std::vector<Leaf> build_leaves(const std::vector<SchemaElement>& schema) {
  if (schema.empty()) throw std::runtime_error("schema is empty");
  size_t idx = 0;
  Node root = build_tree(schema, idx, 0);
  if (idx != schema.size()) throw std::runtime_error("schema has elements outside the root");
  Walker w;
  for (const auto& c : root.children) w.walk(c, "", {}, 0, 0);
  return std::move(w.leaves);
}

}  // namespace robotrain::dataset::parquet
