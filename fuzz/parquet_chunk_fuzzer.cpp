// The page decoders, reached directly: the input is a small header choosing one column's schema
// (type, required/optional, list nesting, codec, counts) followed by its column chunk's bytes
// (page headers and pages), which this harness wraps in a valid file. The whole-file fuzzer
// must first get a footer right to reach a page; here every input is pages.
#include <cstdint>
#include <string>

#include "dataset/parquet/metadata.h"
#include "dataset/parquet/parquet.h"
#include "fuzz_support.h"
#include "memfile.h"

using namespace robotrain::dataset::parquet;
namespace f = format;

namespace {

// Config: [physical][shape][codec][type_length][rows u16][values u16]
constexpr size_t kConfigBytes = 8;

std::string wrap(const uint8_t* data, size_t size) {
  const uint8_t physical = data[0] % 8, shape = data[1] % 5, codec = data[2] % 8;
  const int32_t type_length = data[3] % 17;
  const int64_t rows = data[4] | (data[5] << 8), values = data[6] | (data[7] << 8);
  const std::string chunk(reinterpret_cast<const char*>(data + kConfigBytes), size - kConfigBytes);

  f::FileMetaData fm;
  f::SchemaElement root;
  root.name = "schema";
  root.num_children = 1;
  fm.schema.push_back(root);
  f::SchemaElement leaf;
  leaf.type = physical;
  leaf.type_length = type_length;
  leaf.name = "element";
  if (physical == f::BYTE_ARRAY && (data[3] & 0x80)) leaf.converted_type = f::CT_UTF8;
  std::vector<std::string> path;
  // shape 0: required scalar, 1: optional scalar, 2: optional list, 3: list of lists, 4: legacy
  // repeated primitive.
  if (shape <= 1 || shape == 4) {
    leaf.name = "c";
    leaf.repetition = shape == 0 ? f::REQUIRED : shape == 1 ? f::OPTIONAL : f::REPEATED;
    fm.schema.push_back(leaf);
    path = {"c"};
  } else {
    path = {"c"};
    for (int d = 0; d < (shape == 3 ? 2 : 1); ++d) {
      f::SchemaElement list, group;
      list.name = d == 0 ? "c" : "element";
      list.repetition = f::OPTIONAL;
      list.num_children = 1;
      list.converted_type = f::CT_LIST;
      list.logical = f::LT_LIST;
      group.name = "list";
      group.repetition = f::REPEATED;
      group.num_children = 1;
      fm.schema.push_back(list);
      fm.schema.push_back(group);
      if (d > 0) path.push_back("element");
      path.push_back("list");
    }
    leaf.repetition = f::OPTIONAL;
    fm.schema.push_back(leaf);
    path.push_back("element");
  }
  fm.num_rows = rows;
  f::RowGroup rg;
  rg.num_rows = rows;
  f::ColumnChunk cc;
  cc.has_meta = true;
  cc.file_offset = 4;
  cc.meta.type = physical;
  cc.meta.path_in_schema = path;
  cc.meta.codec = codec;
  cc.meta.num_values = values;
  cc.meta.total_compressed_size = static_cast<int64_t>(chunk.size());
  cc.meta.total_uncompressed_size = int64_t(1) << 26;
  cc.meta.data_page_offset = 4;
  rg.columns.push_back(cc);
  fm.row_groups.push_back(rg);
  std::string footer = f::encode_file_metadata(fm);
  std::string out = "PAR1" + chunk + footer;
  uint32_t n = static_cast<uint32_t>(footer.size());
  out.append(reinterpret_cast<const char*>(&n), 4);
  return out + "PAR1";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < kConfigBytes) return 0;
  static robotrain::fuzz::MemFile file;
  const std::string bytes = wrap(data, size);
  const std::string& path = file.write(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  robotrain::fuzz::guarded(true, [&] { Reader(path).read(); });
  return 0;
}
