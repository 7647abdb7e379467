// Byte-level tests of the Parquet encodings against the format spec's examples, and of the
// encoders used by the writer (each decoded back).
#include <gtest/gtest.h>

#include <random>

#include "dataset/parquet/encoding.h"
#include "dataset/parquet/metadata.h"
#include "dataset/parquet/thrift.h"

namespace robotrain::dataset::parquet {
namespace {

std::vector<uint8_t> bytes(std::initializer_list<int> v) { return std::vector<uint8_t>(v.begin(), v.end()); }

TEST(ParquetEncoding, RleHybridSpecExample) {
  // Spec: bit-packed run of 0..7 with width 3: header (1 group << 1 | 1) then 3 bytes.
  auto data = bytes({0x03, 0x88, 0xC6, 0xFA});
  std::vector<uint32_t> out(8);
  EXPECT_EQ(enc::decode_rle_hybrid(data.data(), data.size(), 3, 8, out.data()), 4u);
  EXPECT_EQ(out, (std::vector<uint32_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  // RLE run: 5 copies of 300 with width 9 (2-byte value).
  auto rle = bytes({0x0A, 0x2C, 0x01});
  std::vector<uint32_t> out2(5);
  enc::decode_rle_hybrid(rle.data(), rle.size(), 9, 5, out2.data());
  EXPECT_EQ(out2, (std::vector<uint32_t>(5, 300)));
}

TEST(ParquetEncoding, RleHybridRoundTripsMixedRunsAndRejectsTruncation) {
  std::mt19937 rng(3);
  for (int w : {1, 2, 5, 12, 20, 32}) {
    std::vector<uint32_t> v;
    uint64_t mask = w == 32 ? 0xffffffffull : ((1ull << w) - 1);
    while (v.size() < 5000) {
      uint32_t x = static_cast<uint32_t>(rng() & mask);
      size_t run = rng() % 3 == 0 ? 1 + rng() % 40 : 1;
      v.insert(v.end(), run, x);
    }
    std::string enc;
    enc::encode_rle_hybrid(v.data(), v.size(), w, enc);
    std::vector<uint32_t> back(v.size());
    enc::decode_rle_hybrid(reinterpret_cast<const uint8_t*>(enc.data()), enc.size(), w, v.size(), back.data());
    EXPECT_EQ(back, v) << "width " << w;
    EXPECT_THROW(enc::decode_rle_hybrid(reinterpret_cast<const uint8_t*>(enc.data()), enc.size() / 2, w, v.size(),
                                        back.data()),
                 enc::EncodingError);
  }
}

TEST(ParquetEncoding, DeltaBinaryPackedSpecExampleAndRoundTrip) {
  // Spec example 1: 1..5 -> block 128, 4 miniblocks, 5 values, first 1, min delta 1, widths 0.
  std::string enc;
  std::vector<int64_t> v{1, 2, 3, 4, 5};
  enc::encode_delta_binary_packed(v.data(), v.size(), enc);
  std::vector<int64_t> back;
  size_t used = enc::decode_delta_binary_packed(reinterpret_cast<const uint8_t*>(enc.data()), enc.size(), 5, back);
  EXPECT_EQ(used, enc.size());
  EXPECT_EQ(back, v);
  // Wrap-around and extremes.
  std::mt19937_64 rng(5);
  std::vector<int64_t> w{INT64_MAX, INT64_MIN, 0, -1, 1};
  for (int i = 0; i < 1000; ++i) w.push_back(static_cast<int64_t>(rng()) >> (rng() % 64));
  enc.clear();
  enc::encode_delta_binary_packed(w.data(), w.size(), enc);
  back.clear();
  enc::decode_delta_binary_packed(reinterpret_cast<const uint8_t*>(enc.data()), enc.size(), w.size(), back);
  EXPECT_EQ(back, w);
  EXPECT_THROW(enc::decode_delta_binary_packed(reinterpret_cast<const uint8_t*>(enc.data()), enc.size(), 10, back),
               enc::EncodingError);  // more values than the page allows
  EXPECT_THROW(enc::decode_delta_binary_packed(reinterpret_cast<const uint8_t*>(enc.data()), enc.size() - 9,
                                               w.size(), back),
               enc::EncodingError);
}

TEST(ParquetEncoding, DeltaByteArrays) {
  std::vector<std::string> v{"Hello", "World", "Foobar", "ABCDEF", "", "Foo", "Foobaz", "Foobaz"};
  std::string dlba, dba;
  enc::encode_delta_length_byte_array(v.data(), v.size(), dlba);
  enc::encode_delta_byte_array(v.data(), v.size(), dba);
  std::vector<std::string> a(v.size()), b(v.size());
  enc::decode_delta_length_byte_array(reinterpret_cast<const uint8_t*>(dlba.data()), dlba.size(), v.size(), a.data());
  enc::decode_delta_byte_array(reinterpret_cast<const uint8_t*>(dba.data()), dba.size(), v.size(), b.data());
  EXPECT_EQ(a, v);
  EXPECT_EQ(b, v);
  EXPECT_THROW(enc::decode_delta_byte_array(reinterpret_cast<const uint8_t*>(dba.data()), dba.size() - 3, v.size(),
                                            b.data()),
               enc::EncodingError);
}

TEST(ParquetEncoding, ByteStreamSplitAndPlain) {
  std::vector<float> f{1.5f, -2.25f, 3e30f};
  std::vector<uint8_t> raw(12), split(12);
  std::memcpy(raw.data(), f.data(), 12);
  for (int i = 0; i < 3; ++i)
    for (int k = 0; k < 4; ++k) split[k * 3 + i] = raw[i * 4 + k];
  std::vector<uint8_t> back(12);
  enc::decode_byte_stream_split(split.data(), split.size(), 3, 4, back.data());
  EXPECT_EQ(back, raw);

  auto bools = bytes({0b00000101, 0b1});
  std::vector<int64_t> bo(9);
  enc::decode_plain_bool(bools.data(), bools.size(), 9, bo.data());
  EXPECT_EQ(bo, (std::vector<int64_t>{1, 0, 1, 0, 0, 0, 0, 0, 1}));
  std::vector<int64_t> ints(2);
  int32_t i32[2] = {-5, 7};
  enc::decode_plain_fixed<int32_t>(reinterpret_cast<const uint8_t*>(i32), 8, 2, ints.data());
  EXPECT_EQ(ints, (std::vector<int64_t>{-5, 7}));
  EXPECT_THROW(enc::decode_plain_fixed<int32_t>(reinterpret_cast<const uint8_t*>(i32), 7, 2, ints.data()),
               enc::EncodingError);
  auto ba = bytes({2, 0, 0, 0, 'h', 'i', 200, 0, 0, 0, 'x'});
  std::vector<std::string> s(2);
  enc::decode_plain_byte_array(ba.data(), 6, 1, s.data());
  EXPECT_EQ(s[0], "hi");
  EXPECT_THROW(enc::decode_plain_byte_array(ba.data(), ba.size(), 2, s.data()), enc::EncodingError);
}

TEST(ParquetEncoding, ThriftFooterRoundTripAndCorruption) {
  format::FileMetaData m;
  m.num_rows = 12;
  m.created_by = "test";
  format::SchemaElement root;
  root.name = "schema";
  root.num_children = 1;
  format::SchemaElement leaf;
  leaf.name = "x";
  leaf.type = format::INT64;
  leaf.repetition = format::OPTIONAL;
  m.schema = {root, leaf};
  format::RowGroup g;
  g.num_rows = 12;
  format::ColumnChunk c;
  c.has_meta = true;
  c.meta.type = format::INT64;
  c.meta.path_in_schema = {"x"};
  c.meta.encodings = {format::PLAIN, format::RLE};
  c.meta.num_values = 12;
  c.meta.data_page_offset = 4;
  c.meta.dictionary_page_offset = 1234567890123LL;
  g.columns = {c};
  m.row_groups = {g};
  m.key_value_metadata = {{"k", std::string("v\0w", 3)}};
  std::string bytes = format::encode_file_metadata(m);
  auto back = format::decode_file_metadata(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  EXPECT_EQ(back.num_rows, 12);
  EXPECT_EQ(back.schema.size(), 2u);
  EXPECT_EQ(back.schema[1].name, "x");
  EXPECT_EQ(back.row_groups[0].columns[0].meta.dictionary_page_offset, 1234567890123LL);
  EXPECT_EQ(back.key_value_metadata[0].second, std::string("v\0w", 3));
  for (size_t cut = 0; cut < bytes.size(); ++cut)
    EXPECT_THROW(format::decode_file_metadata(reinterpret_cast<const uint8_t*>(bytes.data()), cut),
                 thrift::ThriftError);
  // A list header claiming a billion elements must fail fast, not allocate.
  std::string huge = "\x19\xfc\xff\xff\xff\x03";
  EXPECT_THROW(format::decode_file_metadata(reinterpret_cast<const uint8_t*>(huge.data()), huge.size()),
               thrift::ThriftError);
}

}  // namespace
}  // namespace robotrain::dataset::parquet
