#include "dataset/parquet/thrift.h"

#include <cstring>

namespace robotrain::dataset::parquet::thrift {

namespace {
constexpr int kMaxDepth = 64;  // Parquet metadata nests a handful of levels; more is corruption
int64_t unzigzag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }
}  // namespace

void Decoder::need(size_t n) const {
  if (static_cast<size_t>(end_ - p_) < n) throw ThriftError("thrift data truncated");
}

uint8_t Decoder::read_byte() {
  need(1);
  return *p_++;
}

uint64_t Decoder::read_varint() {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    uint8_t b = read_byte();
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  throw ThriftError("thrift varint too long");
}

void Decoder::begin_struct() {
  if (last_ids_.size() >= kMaxDepth) throw ThriftError("thrift nesting too deep");
  last_ids_.push_back(last_id_);
  last_id_ = 0;
}

void Decoder::end_struct() {
  if (last_ids_.empty()) throw ThriftError("thrift struct end without begin");
  last_id_ = last_ids_.back();
  last_ids_.pop_back();
}

bool Decoder::next_field(int16_t& id, uint8_t& type) {
  uint8_t b = read_byte();
  type = b & 0x0f;
  if (type == kStop) return false;
  int delta = b >> 4;
  if (delta == 0) {
    int64_t v = unzigzag(read_varint());
    if (v < INT16_MIN || v > INT16_MAX) throw ThriftError("thrift field id out of range");
    id = static_cast<int16_t>(v);
  } else {
    id = static_cast<int16_t>(last_id_ + delta);
  }
  last_id_ = id;
  if (type > kStruct) throw ThriftError("thrift field type invalid");
  return true;
}

bool Decoder::read_bool(uint8_t field_type) {
  if (field_type == kTrue) return true;
  if (field_type == kFalse) return false;
  return read_byte() == kTrue;  // list element: one byte
}

int32_t Decoder::read_i32() {
  int64_t v = unzigzag(read_varint());
  if (v < INT32_MIN || v > INT32_MAX) throw ThriftError("thrift i32 out of range");
  return static_cast<int32_t>(v);
}

int64_t Decoder::read_i64() { return unzigzag(read_varint()); }

double Decoder::read_double() {
  need(8);
  double d;
  std::memcpy(&d, p_, 8);
  p_ += 8;
  return d;
}

std::string Decoder::read_string() {
  uint64_t n = read_varint();
  need(n);
  std::string s(reinterpret_cast<const char*>(p_), n);
  p_ += n;
  return s;
}

uint32_t Decoder::read_list_header(uint8_t& elem_type) {
  uint8_t b = read_byte();
  elem_type = b & 0x0f;
  uint64_t n = b >> 4;
  if (n == 15) n = read_varint();
  // Every element takes at least one byte (bools in lists too), which bounds the count.
  if (n > static_cast<uint64_t>(end_ - p_)) throw ThriftError("thrift list size exceeds data");
  return static_cast<uint32_t>(n);
}

void Decoder::charge_elements(uint32_t count, size_t elem_bytes) {
  if (elem_bytes != 0 && count > memory_left_ / elem_bytes)
    throw ThriftError("thrift lists decode to more memory than their bytes justify");
  memory_left_ -= count * elem_bytes;
}

void Decoder::skip(uint8_t type, int depth) {
  if (depth > kMaxDepth) throw ThriftError("thrift nesting too deep");
  switch (type) {
    case kTrue:
    case kFalse: return;  // value lives in the field header
    case kByte: read_byte(); return;
    case kI16:
    case kI32:
    case kI64: read_varint(); return;
    case kDouble: need(8); p_ += 8; return;
    case kBinary: {
      uint64_t n = read_varint();
      need(n);
      p_ += n;
      return;
    }
    case kList:
    case kSet: {
      uint8_t et;
      uint32_t n = read_list_header(et);
      for (uint32_t i = 0; i < n; ++i) {
        if (et == kTrue || et == kFalse) read_byte();
        else skip(et, depth + 1);
      }
      return;
    }
    case kMap: {
      uint64_t n = read_varint();
      if (n == 0) return;
      if (n > static_cast<uint64_t>(end_ - p_)) throw ThriftError("thrift map size exceeds data");
      uint8_t kv = read_byte();
      for (uint64_t i = 0; i < n; ++i) {
        uint8_t kt = kv >> 4, vt = kv & 0x0f;
        if (kt == kTrue || kt == kFalse) read_byte(); else skip(kt, depth + 1);
        if (vt == kTrue || vt == kFalse) read_byte(); else skip(vt, depth + 1);
      }
      return;
    }
    case kStruct: {
      begin_struct();
      int16_t id;
      uint8_t ft;
      while (next_field(id, ft)) skip(ft, depth + 1);
      end_struct();
      return;
    }
    default: throw ThriftError("thrift type invalid");
  }
}

// ---- Encoder ----

void Encoder::write_varint(uint64_t v) {
  while (v >= 0x80) {
    out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out_.push_back(static_cast<char>(v));
}

void Encoder::begin_struct() {
  last_ids_.push_back(last_id_);
  last_id_ = 0;
}

void Encoder::end_struct() {
  out_.push_back(static_cast<char>(kStop));
  last_id_ = last_ids_.back();
  last_ids_.pop_back();
}

void Encoder::field_header(int16_t id, uint8_t type) {
  int delta = id - last_id_;
  if (delta > 0 && delta <= 15) {
    out_.push_back(static_cast<char>((delta << 4) | type));
  } else {
    out_.push_back(static_cast<char>(type));
    write_varint(zigzag(id));
  }
  last_id_ = id;
}

void Encoder::field_i32(int16_t id, int32_t v) {
  field_header(id, kI32);
  write_varint(zigzag(v));
}

void Encoder::field_i64(int16_t id, int64_t v) {
  field_header(id, kI64);
  write_varint(zigzag(v));
}

void Encoder::field_bool(int16_t id, bool v) { field_header(id, v ? kTrue : kFalse); }

void Encoder::field_binary(int16_t id, const std::string& v) {
  field_header(id, kBinary);
  list_binary(v);
}

void Encoder::list_binary(const std::string& v) {
  write_varint(v.size());
  out_.append(v);
}

void Encoder::field_struct_begin(int16_t id) {
  field_header(id, kStruct);
  begin_struct();
}

void Encoder::field_list_begin(int16_t id, uint8_t elem_type, size_t size) {
  field_header(id, kList);
  if (size < 15) {
    out_.push_back(static_cast<char>((size << 4) | elem_type));
  } else {
    out_.push_back(static_cast<char>(0xf0 | elem_type));
    write_varint(size);
  }
}

}  // namespace robotrain::dataset::parquet::thrift
