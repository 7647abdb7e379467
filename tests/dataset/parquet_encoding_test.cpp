// Byte-level tests of the Parquet encodings against the format spec's examples, and of the
// encoders used by the writer (each decoded back).
#include <gtest/gtest.h>

#include <lz4.h>

#include <random>

#include "dataset/parquet/compression.h"
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
  EXPECT_EQ(enc::decode_delta_byte_array(reinterpret_cast<const uint8_t*>(dba.data()), dba.size(), v.size(),
                                         b.data(), SIZE_MAX),
            37u);
  EXPECT_EQ(a, v);
  EXPECT_EQ(b, v);
  EXPECT_THROW(enc::decode_delta_byte_array(reinterpret_cast<const uint8_t*>(dba.data()), dba.size() - 3, v.size(),
                                            b.data(), SIZE_MAX),
               enc::EncodingError);
  EXPECT_THROW(enc::decode_delta_byte_array(reinterpret_cast<const uint8_t*>(dba.data()), dba.size(), v.size(),
                                            b.data(), 36),
               enc::EncodingError)
      << "the values' total size is checked before they are built";
}

// One 1000-byte value followed by a million values that repeat it whole (prefix 1000, empty
// suffix): 80 KB that would expand to a gigabyte. The cap stops it before building.
TEST(ParquetEncoding, DeltaByteArrayExpansionIsCapped) {
  const size_t n = 1000000;
  std::vector<int64_t> prefix(n, 1000), suffix(n, 0);
  prefix[0] = 0;
  suffix[0] = 1000;
  std::string bytes;
  enc::encode_delta_binary_packed(prefix.data(), n, bytes);
  enc::encode_delta_binary_packed(suffix.data(), n, bytes);
  bytes += std::string(1000, 'x');
  ASSERT_LT(bytes.size(), 100000u);
  std::vector<std::string> out(n);
  try {
    enc::decode_delta_byte_array(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), n, out.data(),
                                 64u << 20);
    FAIL() << "expected the expansion cap";
  } catch (const enc::EncodingError& e) {
    EXPECT_NE(std::string(e.what()).find("expands"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(out[1].empty()) << "nothing was built";
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

// The legacy LZ4 codec: parquet-mr's Hadoop framing (big-endian sizes before each block), and
// the bare block older parquet-cpp wrote under the same codec id. pyarrow writes neither, so
// the frames are made here with liblz4 itself.
TEST(ParquetCompression, LegacyLz4HadoopFramingAndBareBlock) {
  std::string text;
  for (int i = 0; i < 4000; ++i) text += "robot " + std::to_string(i % 97) + " ";
  auto block = [](const std::string& in) {
    std::string out(static_cast<size_t>(LZ4_compressBound(static_cast<int>(in.size()))), '\0');
    int n = LZ4_compress_default(in.data(), out.data(), static_cast<int>(in.size()), static_cast<int>(out.size()));
    out.resize(static_cast<size_t>(n));
    return out;
  };
  auto be32 = [](uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                       static_cast<char>(v)};
  };
  // Two Hadoop blocks.
  const std::string a = text.substr(0, 10000), b = text.substr(10000);
  std::string framed;
  for (const std::string* part : {&a, &b}) {
    std::string c = block(*part);
    framed += be32(static_cast<uint32_t>(part->size())) + be32(static_cast<uint32_t>(c.size())) + c;
  }
  std::string out(text.size(), '\0');
  auto run = [&](const std::string& src, size_t dst_size) {
    out.assign(dst_size, '\0');
    decompress(format::LZ4, reinterpret_cast<const uint8_t*>(src.data()), src.size(),
               reinterpret_cast<uint8_t*>(out.data()), dst_size);
  };
  run(framed, text.size());
  EXPECT_EQ(out, text);
  run(block(text), text.size());  // a bare block under the legacy id
  EXPECT_EQ(out, text);
  // LZ4_RAW is the bare block only; both fail cleanly on a short or corrupt frame.
  EXPECT_THROW(decompress(format::LZ4_RAW, reinterpret_cast<const uint8_t*>(framed.data()), framed.size(),
                          reinterpret_cast<uint8_t*>(out.data()), text.size()),
               std::runtime_error);
  std::string cut = framed.substr(0, framed.size() - 5);
  EXPECT_THROW(run(cut, text.size()), std::runtime_error);
  EXPECT_THROW(run(framed, text.size() + 1), std::runtime_error) << "must fill the page exactly";
}

TEST(ParquetCompression, EveryCodecRoundTripsAndBoundedCodecsRefuseImpossibleRatios) {
  std::string text(50000, '\0');
  for (size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>((i * 7) % 13);
  for (int32_t codec : {format::UNCOMPRESSED, format::SNAPPY, format::GZIP, format::ZSTD, format::LZ4_RAW,
                        format::BROTLI}) {
    SCOPED_TRACE(format::codec_name(codec));
    std::string c;
    compress(codec, reinterpret_cast<const uint8_t*>(text.data()), text.size(), c);
    std::string back(text.size(), '\0');
    decompress(codec, reinterpret_cast<const uint8_t*>(c.data()), c.size(), reinterpret_cast<uint8_t*>(back.data()),
               back.size());
    EXPECT_EQ(back, text);
    EXPECT_LE(text.size(), max_decompressed_size(codec, c.size())) << "a real page is within the codec's bound";
  }
  // 16 compressed bytes can never be a megabyte of snappy, lz4 or gzip output.
  std::string tiny(16, '\x01'), big(1 << 20, '\0');
  for (int32_t codec : {format::SNAPPY, format::LZ4_RAW, format::GZIP}) {
    try {
      decompress(codec, reinterpret_cast<const uint8_t*>(tiny.data()), tiny.size(),
                 reinterpret_cast<uint8_t*>(big.data()), big.size());
      ADD_FAILURE() << format::codec_name(codec);
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("more than the codec can produce"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(max_decompressed_size(format::ZSTD, 16), SIZE_MAX) << "zstd's ratio is the budget's business";
}

}  // namespace
}  // namespace robotrain::dataset::parquet
