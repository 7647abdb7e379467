#pragma once
// Thrift compact protocol, just what Parquet's footer and page headers need. The decoder
// never trusts a length: every size is checked against the bytes left, and nesting is capped,
// so a corrupt footer ends in ThriftError instead of a crash or a huge allocation.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace robotrain::dataset::parquet::thrift {

// Compact protocol wire types.
enum Type : uint8_t {
  kStop = 0, kTrue = 1, kFalse = 2, kByte = 3, kI16 = 4, kI32 = 5, kI64 = 6,
  kDouble = 7, kBinary = 8, kList = 9, kSet = 10, kMap = 11, kStruct = 12,
};

// Raised on malformed input; callers add file/column context.
class ThriftError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Decoder {
 public:
  Decoder(const uint8_t* data, size_t size) : p_(data), begin_(data), end_(data + size) {}

  size_t position() const { return static_cast<size_t>(p_ - begin_); }

  // Struct traversal: begin_struct(); while (next_field(id, type)) { ... or skip(type) } end_struct().
  void begin_struct();
  bool next_field(int16_t& id, uint8_t& type);
  void end_struct();

  bool read_bool(uint8_t field_type);  // field_type is kTrue/kFalse in a field, else a byte follows
  int8_t read_i8() { return static_cast<int8_t>(read_byte()); }
  int32_t read_i32();
  int64_t read_i64();
  double read_double();
  std::string read_string();
  // Returns the element count (validated against remaining bytes) and the element type.
  uint32_t read_list_header(uint8_t& elem_type);
  // What the decoded structures may occupy in memory. An element can be a single byte on the
  // wire (an empty struct) yet a few hundred bytes decoded, so list lengths alone do not bound
  // the decoded size; callers charge each list's elements before decoding them.
  void limit_memory(size_t bytes) { memory_left_ = bytes; }
  void charge_elements(uint32_t count, size_t elem_bytes);
  void skip(uint8_t type, int depth = 0);

 private:
  uint64_t read_varint();
  uint8_t read_byte();
  void need(size_t n) const;

  const uint8_t* p_;
  const uint8_t* begin_;
  const uint8_t* end_;
  std::vector<int16_t> last_ids_;
  int16_t last_id_ = 0;
  bool pending_bool_ = false;
  bool pending_bool_value_ = false;
  size_t memory_left_ = SIZE_MAX;
};

class Encoder {
 public:
  std::string& out() { return out_; }

  void begin_struct();
  void end_struct();  // writes STOP
  void field_i32(int16_t id, int32_t v);
  void field_i64(int16_t id, int64_t v);
  void field_bool(int16_t id, bool v);
  void field_binary(int16_t id, const std::string& v);
  void field_struct_begin(int16_t id);  // follow with fields and end_struct()
  void field_list_begin(int16_t id, uint8_t elem_type, size_t size);
  // List elements (no field header).
  void list_i32(int32_t v) { write_varint(zigzag(v)); }
  void list_binary(const std::string& v);
  void list_struct_begin() { begin_struct(); }

 private:
  void field_header(int16_t id, uint8_t type);
  static uint64_t zigzag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
  void write_varint(uint64_t v);

  std::string out_;
  std::vector<int16_t> last_ids_;
  int16_t last_id_ = 0;
};

}  // namespace robotrain::dataset::parquet::thrift
